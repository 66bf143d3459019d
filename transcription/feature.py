"""Transcription as a feature of the server (``signaling.features.Feature``): its tables
and migrations, its transcript routes (``http.py``), its rows of the authorization table
(``authz.py``) and its ``tiaojie transcribe`` / ``diarize`` commands (``cli.py``).

The live caption pipeline is still attached by the core's media wiring
(``signaling/captions.py``, from ``signaling/plugins.py``), which closes it itself, so
this feature's lifecycle starts nothing yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from signaling.api.registry import ApiRouter
from signaling.authz import Rows
from signaling.features import CliCommands, SocketEvent

from . import authz, cli, http


class TranscriptionFeature:
    name = "transcription"
    migrations: Path | None = Path(__file__).parent / "migrations" / "versions"
    tables: str | None = "transcription.tables"
    settings_section: str | None = "transcription"
    authorization: Rows = authz.ROWS

    def add_routes(self, api: ApiRouter) -> None:
        http.add_routes(api)

    def socket_events(self) -> Sequence[SocketEvent]:
        return ()

    def cli_commands(self) -> Sequence[CliCommands]:
        return (cli.register_cli,)

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        yield


FEATURE = TranscriptionFeature()
