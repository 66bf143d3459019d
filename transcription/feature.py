"""Transcription as a feature of the server (``signaling.features.Feature``): its tables
and migrations, its transcript routes (``http.py``, a line's audio among them), its rows
of the authorization table (``authz.py``), its ``tiaojie worker transcription``
(``worker.py``) and ``tiaojie transcribe`` / ``diarize`` commands (``cli.py``), and its
part of ``tiaojie data purge`` / ``export`` (``retention.py``: utterances, their edits,
queued audio).

The live caption pipeline (``captions.py``) must be the SFU's tap before the SFU starts,
which is before any feature's lifecycle, so ``signaling/plugins.py`` attaches it (by
module name) and it closes itself at shutdown; this feature's lifecycle starts nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from signaling.api.registry import ApiRouter
from signaling.authz import Rows
from signaling.features import CliCommands, PersonalData, SocketEvent

from . import authz, cli, http, retention, worker


class TranscriptionFeature:
    name = "transcription"
    migrations: Path | None = Path(__file__).parent / "migrations" / "versions"
    tables: str | None = "transcription.tables"
    settings_section: str | None = "transcription"
    authorization: Rows = authz.ROWS
    personal_data: PersonalData | None = retention.PERSONAL_DATA

    def add_routes(self, api: ApiRouter) -> None:
        http.add_routes(api)

    def socket_events(self) -> Sequence[SocketEvent]:
        return ()

    def cli_commands(self) -> Sequence[CliCommands]:
        return (worker.register_cli, cli.register_cli)

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        yield


FEATURE = TranscriptionFeature()
