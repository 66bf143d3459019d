"""Attaching the expert service to a built app: the switchboard, the console namespace and
the presence heartbeat, started with the app and stopped before it closes its database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from experts import config
from experts.console import ExpertConsole
from experts.presence import REFRESH_S
from experts.switchboard import Switchboard
from signaling.context import Services, Slot
from signaling.keys import SERVICES
from signaling.tasks import cancel_and_wait

log = logging.getLogger("tiaojie.experts")

SWITCHBOARD = Slot("experts.switchboard", Switchboard)
"""This node's Switchboard, in ``Services`` while the app runs."""


def switchboard(services: Services) -> Switchboard:
    board = services.get(SWITCHBOARD)
    if board is None:
        raise RuntimeError("the expert service is not attached to this app")
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
        await asyncio.sleep(config.SWEEP_S)
        try:
            await board.sweep()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database away for a moment: try again at the next sweep
            log.exception("expert call sweep failed")


@asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[None]:
    """The expert service while the app runs (the feature's lifecycle): the switchboard,
    the console namespace, the presence heartbeat and the sweeper; all stopped before the
    app closes its database."""
    services = app[SERVICES]
    assert services.sio is not None
    board = services.put(SWITCHBOARD, Switchboard(services))
    console = ExpertConsole(board)
    services.sio.register_namespace(console)
    services.on_logout.append(console.logged_out)
    tasks = [asyncio.create_task(_heartbeat(board, console)),
             asyncio.create_task(_sweeper(board))]
    try:
        yield
    finally:
        await cancel_and_wait(tasks)
        await board.close()
