"""A minimal stand-in for the signaling server: serves page.html and relays over a WebSocket.

The real Socket.IO signaling calls the SFU the same way: ``handle_signal`` for each
participant message (errors back to that participant only), ``send`` for server pushes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from media.errors import MediaError
from media.sfu import SFU

logger = logging.getLogger(__name__)
PAGE = pathlib.Path(__file__).with_name("page.html")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Harness:
    """An aiohttp app on loopback wired to one SFU."""

    def __init__(self) -> None:
        self.sfu: SFU | None = None
        self.sockets: dict[tuple[str, str], web.WebSocketResponse] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def send(self, session_id: str, participant_id: str, message: dict[str, Any]) -> None:
        ws = self.sockets.get((session_id, participant_id))
        if ws is not None and not ws.closed:
            await ws.send_str(json.dumps({"push": message}))

    async def start(self, sfu: SFU) -> str:
        self.sfu = sfu
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/ws", self._ws)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return f"http://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        for ws in list(self.sockets.values()):
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(), content_type="text/html")

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        assert self.sfu is not None
        session, pid = request.query["session"], request.query["pid"]
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets[(session, pid)] = ws
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            req = json.loads(msg.data)
            reply: dict[str, object] = {"id": req["id"]}
            try:
                if req["msg"].get("type") == "config":
                    reply["result"] = self.sfu.client_config(pid)
                else:
                    reply["result"] = await self.sfu.handle_signal(session, pid, req["msg"])
            except MediaError as exc:
                reply["error"] = exc.to_dict()
            await ws.send_str(json.dumps(reply))
        return ws


T = TypeVar("T")

WAIT_TIMEOUT = 40.0
"""Seconds a condition may take before a test fails (a guard, not a measurement)."""


async def wait_for(
    predicate: Callable[[], Awaitable[T]], timeout: float | None = None, interval: float = 0.25
) -> T:
    """Poll an async predicate until it returns a truthy value (the value is returned)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (WAIT_TIMEOUT if timeout is None else timeout)
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met in {timeout}s; last value {value!r}")
        await asyncio.sleep(interval)
