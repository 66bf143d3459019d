"""An office with a mediator, an administrator and experts, and expert-console clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.signaling.harness import (
    Client,
    EventRecorder,
    Server,
    Staff,
    connect,
    login,
    make_user,
    running_server,
)

OTHER_OFFICE = "赤峰市红山区人民调解委员会"
_CONSOLES: list[Console] = []


@asynccontextmanager
async def expert_server(database_url: str, tmp: Path, **settings: Any) -> AsyncIterator[Server]:
    """``running_server`` that also closes the expert consoles opened against it, which
    would otherwise keep its shutdown waiting for their ping time-out."""
    async with running_server(database_url, tmp, **settings) as srv:
        try:
            yield srv
        finally:
            for c in [c for c in _CONSOLES if c.url == srv.url]:
                _CONSOLES.remove(c)
                await c.close()


@dataclass
class Console(EventRecorder):
    """An expert's console: a Socket.IO client on /experts recording what it receives."""

    wait_timeout = 15.0

    sio: socketio.AsyncClient
    expert_id: str
    token: str
    url: str
    events: list[tuple[str, Any]] = field(default_factory=list)

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data if data is not None else {},
                                   namespace="/experts", timeout=15)


    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def open_console(url: str, token: str, expert_id: str = "") -> Console:
    sio = socketio.AsyncClient(reconnection=False)
    c = Console(sio, expert_id, token, url)
    _CONSOLES.append(c)

    @sio.on("*", namespace="/experts")  # type: ignore[untyped-decorator]
    async def any_event(event: str, data: Any = None) -> None:
        c.events.append((event, data))

    await sio.connect(url, auth={"token": token}, namespaces=["/experts"],
                      transports=["websocket"], wait_timeout=10)
    await c.wait_for("console")
    c.expert_id = c.received("console")[0]["profile"]["id"]
    return c


async def console_refused(url: str, auth: Any) -> dict[str, Any]:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", lambda data: errors.append(data), namespace="/experts")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, namespaces=["/experts"], transports=["websocket"],
                          wait_timeout=10)
    await sio.disconnect()
    assert errors and isinstance(errors[0], dict), errors
    return dict(errors[0]["data"])


@dataclass
class Office:
    """One office: mediator li (in a live session), admin, and experts with profiles."""

    srv: Server
    http: aiohttp.ClientSession
    mediator: Staff
    admin: Staff
    experts: list[Staff]
    profiles: list[dict[str, Any]]
    case_id: str
    session_id: str
    med: Client | None = None

    async def mediator_in(self, srv: Server | None = None) -> Client:
        self.med = await connect((srv or self.srv).url, {"token": self.mediator.token,
                                                         "session_id": self.session_id})
        return self.med

    async def party(self, side: str = "A", name: str = "张三") -> Client:
        inv = await self.mediator.invite(self.session_id, side=side)
        p = await connect(self.srv.url, {"invite": inv["token"], "name": name,
                                         "consent": True})
        assert self.med is not None
        assert (await self.med.call("admit", {"participant_id": p.pid}))["ok"]
        await p.wait_for("admitted")
        return p


ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


async def office(srv: Server, http: aiohttp.ClientSession, n_experts: int = 3,
                 domains: list[str] | None = None, prefix: str = "e",
                 availability: list[dict[str, Any]] | None = None) -> Office:
    await make_user(srv, "li")
    await make_user(srv, "boss", role="admin")
    mediator = await login(srv, http, "li")
    admin = await login(srv, http, "boss")
    experts, profiles = [], []
    for i in range(n_experts):
        name = f"{prefix}{i}"
        await make_user(srv, name, role="expert")
        st, me = await admin.call("GET", "/api/v1/auth/me")
        staff = await login(srv, http, name)
        st, prof = await admin.call("POST", "/api/v1/experts", {
            "user_id": staff.user["id"], "domains": domains or ["property"],
            "languages": ["zh", "wuu"], "region": "上海市长宁区", "organisation": "物业协会",
            "phone": f"1380013{i:04d}",
            "availability": availability if availability is not None else ALWAYS})
        assert st == 201, prof
        experts.append(staff)
        profiles.append(prof)
    case_id, session_id = await mediator.new_session()
    return Office(srv, http, mediator, admin, experts, profiles, case_id, session_id)
