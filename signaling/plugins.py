"""Optional parts attached at start-up: the SFU, transcription, documents, experts.

Each is tried in turn; a part that is switched off or not installed leaves a clear
message in the log and the rest of the service runs.
"""

from __future__ import annotations

import logging

from aiohttp import web

from signaling.app import Plugin
from signaling.context import Services
from signaling.settings import Settings

log = logging.getLogger("tiaojie.plugins")


def default_plugins(settings: Settings) -> list[Plugin]:
    return []


async def _noop(app: web.Application, services: Services) -> None:
    return None
