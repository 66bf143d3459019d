"""TURN credentials: only once admitted, short-lived, re-issued on request while admitted,
and never again after being sent back, removed or the end of the session."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.signaling.harness import Client, connect, login, make_user, running_server

pytestmark = pytest.mark.slow

TTL = 300
SECRET = "turn-credentials-test-secret-0123456789"
STUN = {"urls": ["stun:stun.example.cn:3478"]}


def turn(part: dict[str, Any]) -> list[dict[str, Any]]:
    """The TURN entries of a welcome, an ``admitted`` event or a ``state`` answer."""
    servers = list(part.get("ice_servers") or []) + \
        list((part.get("rtc_config") or {}).get("iceServers") or [])
    return [s for s in servers if "credential" in s or "username" in s]


async def refused(url: str, auth: dict[str, Any]) -> str:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    await sio.disconnect()
    return str(errors[0]["data"]["code"])


async def test_turn_credentials_only_while_admitted_to_a_live_session(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, media=True, turn_urls=["turn:127.0.0.1:3478"],
                              turn_secret=SECRET, turn_ttl_s=TTL, ice_servers=[STUN]) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, sid = await staff.new_session()
        med = await connect(srv.url, {"token": staff.token, "session_id": sid})
        assert turn(med.welcome), "the mediator is in the room and gets TURN"

        async def party(name: str) -> Client:
            inv = await staff.invite(sid)
            return await connect(srv.url, {"invite": inv["token"], "name": name,
                                           "consent": True})

        a = await party("张三")
        # In the lobby: STUN only, nothing to relay with.
        assert a.welcome["state"] == "lobby"
        assert turn(a.welcome) == [] and a.welcome["turn_expires_at"] is None
        assert STUN["urls"][0] in str(a.welcome["ice_servers"])
        assert turn(await a.call("state")) == []

        assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
        admitted = await a.wait_for("admitted")
        creds = turn(admitted)
        assert creds and all(c["username"].endswith(f":{a.pid}") for c in creds)
        now = time.time()
        assert now < admitted["turn_expires_at"] <= now + TTL + 1
        # Asked again while admitted (the browser does before expiry): a fresh one.
        again = await a.call("state")
        assert turn(again) and again["turn_expires_at"] >= admitted["turn_expires_at"]

        # Sent back to the lobby: none.
        assert (await med.call("send_back", {"participant_id": a.pid}))["ok"]
        await a.wait_for("sent_back")
        assert turn(await a.call("state")) == []

        # Removed: the seat cannot come back for one.
        assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
        resume = a.welcome["resume_token"]
        assert (await med.call("remove", {"participant_id": a.pid}))["ok"]
        assert await refused(srv.url, {"resume": resume}) == "seat_removed"

        # The session ends: no credential and no media restart for anyone still connected.
        b = await party("李四")
        assert (await med.call("admit", {"participant_id": b.pid}))["ok"]
        await b.wait_for("admitted")
        assert (await med.call("end_session"))["ok"]
        if b.sio.connected:
            state = await b.call("state")
            assert not state.get("ok") or turn(state) == [], state
            restart = await b.call("signal", {"type": "restart"})
            assert not restart["ok"], restart
        assert await refused(srv.url, {"resume": b.welcome["resume_token"]}) == \
            "session_ended"
