"""The documents service as a feature of the server (``signaling.features.Feature``).

Everything the composition root needs from agreements is here: its tables and migrations,
its routes (``http.py``), its room events (``events.py``, ``confirmations.py``), its rows
of the authorization table (``authz.py``), its ``tiaojie documents`` commands
(``cli.py``), and its one lifecycle, which runs the deadline reminders and stops the
sealing jobs at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from signaling.api.registry import ApiRouter
from signaling.authz import Rows
from signaling.features import CliCommands, PersonalData, SocketEvent
from signaling.keys import SERVICES

from . import authz, cli, confirmations, events, http
from .deadlines import reminders_running
from .runtime import RUNTIME


class AgreementsFeature:
    name = "agreements"
    migrations: Path | None = Path(__file__).parent / "migrations" / "versions"
    tables: str | None = "agreements.tables"
    settings_section: str | None = None
    """Its settings (``seal_*``, ``deadline_reminder_interval_s``) are still the core's."""
    authorization: Rows = authz.ROWS
    personal_data: PersonalData | None = None

    def add_routes(self, api: ApiRouter) -> None:
        http.add_routes(api)

    def socket_events(self) -> Sequence[SocketEvent]:
        return events.SOCKET_EVENTS + confirmations.SOCKET_EVENTS

    def cli_commands(self) -> Sequence[CliCommands]:
        return (cli.register_cli,)

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        async with reminders_running(services):
            try:
                yield
            finally:
                # Sealing jobs run in the background; none may outlive the app.
                rt = services.get(RUNTIME)
                if rt is not None:
                    await rt.close()


FEATURE = AgreementsFeature()
