"""The expert service as a feature of the server (``signaling.features.Feature``): its
tables and migrations, its routes and room events (``http.py``), its rows of the
authorization table (``authz.py``, with its own ``/experts`` console namespace), and one
lifecycle that runs the switchboard, the console, the presence heartbeat and the sweeper
(``runtime.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from signaling.api.registry import ApiRouter
from signaling.authz import Rows
from signaling.features import CliCommands, PersonalData, SocketEvent

from . import authz, http, runtime


class ExpertsFeature:
    name = "experts"
    migrations: Path | None = Path(__file__).parent / "migrations" / "versions"
    tables: str | None = "experts.tables"
    settings_section: str | None = None
    authorization: Rows = authz.ROWS
    personal_data: PersonalData | None = None

    def add_routes(self, api: ApiRouter) -> None:
        http.add_routes(api)

    def socket_events(self) -> Sequence[SocketEvent]:
        return http.SOCKET_EVENTS

    def cli_commands(self) -> Sequence[CliCommands]:
        return ()

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        async with runtime.running(app):
            yield


FEATURE = ExpertsFeature()
