"""Attaching the expert service to a built app: the switchboard, the console namespace and
the presence heartbeat, started with the app and stopped before it closes its database."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from experts.console import ExpertConsole
from experts.presence import REFRESH_S
from experts import switchboard as switchboard_module
from experts.switchboard import Switchboard
from signaling.context import Services
from signaling.keys import SERVICES

log = logging.getLogger("tiaojie.experts")

EXTRAS_KEY = "experts"
"""``services.extras[EXTRAS_KEY]`` holds this node's Switchboard."""


def switchboard(services: Services) -> Switchboard:
    board = services.extras.get(EXTRAS_KEY)
    if board is None:
        raise RuntimeError("the expert service is not attached to this app")
    assert isinstance(board, Switchboard)
    return board


async def _heartbeat(board: Switchboard, console: ExpertConsole) -> None:
    """Vouch for this node's consoles so that other nodes keep counting them online."""
    while True:
        try:
            await board.presence.refresh([(e, s) for s, e in console.local.items()])
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis away for a moment: try again at the next beat
            log.exception("presence refresh failed")
        await asyncio.sleep(REFRESH_S)


async def _sweeper(board: Switchboard) -> None:
    """Every node looks after calls whose own node died (see ``Switchboard.sweep``)."""
    while True:
        await asyncio.sleep(switchboard_module.SWEEP_S)
        try:
            await board.sweep()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database away for a moment: try again at the next sweep
            log.exception("expert call sweep failed")


async def start(app: web.Application) -> None:
    services = app[SERVICES]
    assert services.sio is not None
    board = Switchboard(services)
    console = ExpertConsole(board)
    services.extras[EXTRAS_KEY] = board
    services.sio.register_namespace(console)
    services.on_logout.append(console.logged_out)
    services.extras[f"{EXTRAS_KEY}.tasks"] = [
        asyncio.create_task(_heartbeat(board, console)), asyncio.create_task(_sweeper(board))]


async def stop(app: web.Application) -> None:
    services = app[SERVICES]
    tasks = services.extras.pop(f"{EXTRAS_KEY}.tasks", [])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    board = services.extras.get(EXTRAS_KEY)
    if isinstance(board, Switchboard):
        await board.close()


def attach(app: web.Application) -> None:
    app.on_startup.append(start)
    app.on_shutdown.append(stop)
