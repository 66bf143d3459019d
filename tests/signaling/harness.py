"""An in-process Tiaojie server on a real port, and a staff/party toolkit for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from signaling.accounts import create_user, ensure_office
from signaling.app import Plugin, build_app
from signaling.keys import SERVICES
from signaling.settings import load_settings
from tests.conftest import free_port

PASSWORD = "correct horse battery"
_CLIENTS: list[Client] = []


@dataclass
class Server:
    """A running app and what tests need to talk to it."""

    url: str
    app: web.Application
    runner: web.AppRunner

    @property
    def services(self) -> Any:
        return self.app[SERVICES]


@asynccontextmanager
async def running_server(database_url: str, tmp: Path, *, media: bool = False,
                         transcription: bool = False, **settings: Any) -> AsyncIterator[Server]:
    """The whole app on a real port; ``media``/``transcription`` attach the SFU and the
    live caption pipeline exactly as ``tiaojie serve`` does."""
    from signaling.plugins import start_media, start_transcription

    port = free_port()
    s = load_settings(database_url=database_url, data_dir=tmp, port=port, env="test",
                      reconnect_grace_s=settings.pop("reconnect_grace_s", 2.0),
                      media_enabled=media, transcription_enabled=transcription,
                      model_cache_dir=settings.pop(
                          "model_cache_dir", Path.home() / ".cache" / "tiaojie" / "models"),
                      **settings)
    plugins: list[Plugin] = []
    if transcription:
        plugins.append(start_transcription)
    if media:
        plugins.append(start_media)
    app = build_app(s, plugins=plugins)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield Server(url=url, app=app, runner=runner)
    finally:
        # Clients still connected would keep the server's websocket handlers waiting
        # for their ping timeout on shutdown.
        for c in [c for c in _CLIENTS if c.url == url]:
            _CLIENTS.remove(c)
            if c.sio.connected:
                await c.sio.disconnect()
        await runner.cleanup()


async def make_user(server: Server, username: str, role: str = "mediator",
                    office: str = "长宁区北新泾街道人民调解委员会") -> None:
    async with server.services.db.session() as db:
        o = await ensure_office(db, office)
        await create_user(db, office_id=o.id, username=username, password=PASSWORD, role=role,
                          display_name=username.title())
        await db.commit()


@dataclass
class Staff:
    """A logged-in staff member using the API with a bearer token."""

    server: Server
    http: aiohttp.ClientSession
    token: str
    user: dict[str, Any]

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.server.url + path, json=json,
                                     headers=self._h()) as r:
            return r.status, await r.json()

    async def new_session(self, number: str = "(2026)长北调字第1号") -> tuple[str, str]:
        st, case = await self.call("POST", "/api/v1/cases", {
            "number": number, "dispute_type": "neighbour", "summary": "漏水纠纷"})
        assert st == 201, case
        st, sess = await self.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                   {"title": "第一次调解"})
        assert st == 201, sess
        return case["id"], sess["id"]

    async def invite(self, session_id: str, **body: Any) -> dict[str, Any]:
        st, inv = await self.call("POST", f"/api/v1/sessions/{session_id}/invites",
                                  {"role": "party", **body})
        assert st == 201, inv
        return dict(inv)


async def eventually(cond: Any, timeout: float = 20.0) -> None:
    """Wait for a condition, not for a time."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


@dataclass
class _Remote:
    """A server known only by its URL (a node in another process)."""

    url: str


async def login_at(url: str, http: aiohttp.ClientSession, username: str) -> Staff:
    """Log in to a node running in another process."""
    return await login(_Remote(url), http, username)  # type: ignore[arg-type]


async def login(server: Server, http: aiohttp.ClientSession, username: str) -> Staff:
    async with http.post(server.url + "/api/v1/auth/login",
                         json={"username": username, "password": PASSWORD}) as r:
        body = await r.json()
        assert r.status == 200, body
    return Staff(server, http, body["token"], body["user"])


class EventRecorder:
    """Events a test client received, with a way to wait for one (not for a time)."""

    events: list[tuple[str, Any]]
    wait_timeout = 10.0

    def received(self, event: str) -> list[Any]:
        return [d for e, d in self.events if e == event]

    async def wait_for(self, event: str, pred: Any = None, timeout: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        end = loop.time() + (self.wait_timeout if timeout is None else timeout)
        while loop.time() < end:
            for e, d in self.events:
                if e == event and (pred is None or pred(d)):
                    return d
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {event!r} event matching; got {[e for e, _ in self.events]}")


@dataclass
class Client(EventRecorder):
    """A Socket.IO participant that records every event it receives."""

    sio: socketio.AsyncClient
    url: str = ""
    events: list[tuple[str, Any]] = field(default_factory=list)
    welcome: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> str:
        return str(self.welcome["participant_id"])

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data if data is not None else {}, timeout=10)

    async def close(self) -> None:
        await self.sio.disconnect()


async def settled(*clients: Client) -> None:
    """A barrier before a negative assertion ("B never received X"), instead of a sleep.

    Each client makes one acknowledged round trip (``state``, read-only). Handlers emit
    before they acknowledge, and the server writes to one connection in order, so whatever
    the calls already acknowledged sent to these clients has reached them when this
    returns. (It says nothing of emits from background work: wait for those by a later
    event on the same path.)"""
    acks = await asyncio.gather(*(c.call("state") for c in clients))
    assert all(a["ok"] for a in acks), acks


async def connect(url: str, auth: dict[str, Any]) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    c = Client(sio, url)
    _CLIENTS.append(c)

    @sio.on("*")  # type: ignore[untyped-decorator]  # python-socketio is untyped
    async def any_event(event: str, data: Any = None) -> None:
        c.events.append((event, data))
        if event == "joined":
            c.welcome = data

    await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    await c.wait_for("joined")
    return c


def invite_token(invite: dict[str, Any]) -> str:
    return str(invite["token"])
