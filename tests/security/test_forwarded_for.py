"""X-Forwarded-For is believed only from the proxies named in TIAOJIE_TRUSTED_PROXIES:
a client that reaches a node directly cannot dodge the per-address limits by rotating the
header, nor put a made-up address on the signing audit page."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from signaling import ratelimit
from signaling.ratelimit import Limit
from tests.signaling.harness import login, make_user, running_server

pytestmark = pytest.mark.slow

TIGHT = 3
"""The per-address limits, tightened so that a test needs a few attempts, not sixty."""


@pytest.fixture(autouse=True)
def tight_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "LOGIN_PER_IP", Limit("login_ip", TIGHT, 600))
    monkeypatch.setattr(ratelimit, "INVITE_PER_IP", Limit("invite_ip", TIGHT, 600))


async def login_status(http: aiohttp.ClientSession, url: str, forwarded: str) -> int:
    # A new username each time: the per-username limit must not be what stops it.
    async with http.post(url + "/api/v1/auth/login",
                         json={"username": uuid.uuid4().hex[:12], "password": "guess"},
                         headers={"X-Forwarded-For": forwarded}) as r:
        return r.status


# behind_tls=True is the setting that used to make every peer's header believed.
async def test_a_spoofed_header_from_an_untrusted_peer_does_not_dodge_the_login_limit(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, behind_tls=True) as srv, \
            aiohttp.ClientSession() as http:
        statuses = [await login_status(http, srv.url, f"198.51.100.{i}")
                    for i in range(TIGHT + 1)]
    assert statuses == [401] * TIGHT + [429], statuses


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_login_budget(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, behind_tls=True,
                              trusted_proxies=["127.0.0.1/32"]) as srv, \
            aiohttp.ClientSession() as http:
        # The test client stands for the proxy: what it appends is believed.
        spread = [await login_status(http, srv.url, f"6.6.6.6, 198.51.100.{i}")
                  for i in range(TIGHT + 1)]
        one = [await login_status(http, srv.url, f"{i}.{i}.{i}.{i}, 203.0.113.5")
               for i in range(1, TIGHT + 2)]
    assert spread == [401] * (TIGHT + 1), spread
    # What the client wrote left of the proxy's entry changes nothing.
    assert one == [401] * TIGHT + [429], one


async def test_a_spoofed_header_does_not_dodge_the_join_link_limit(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, behind_tls=True) as srv:
        party: dict[str, Any] = {"name": "张三", "consent": True}
        codes = []
        for i in range(TIGHT + 1):
            sio = socketio.AsyncClient(reconnection=False)
            errors: list[Any] = []
            sio.on("connect_error", lambda data, errors=errors: errors.append(data))
            with pytest.raises(socketio.exceptions.ConnectionError):
                await sio.connect(srv.url, auth={"invite": uuid.uuid4().hex * 2, **party},
                                  headers={"X-Forwarded-For": f"198.51.100.{i}"},
                                  transports=["websocket"], wait_timeout=10)
            await sio.disconnect()
            codes.append(errors[0]["data"]["code"])
    assert codes == ["invite_invalid"] * TIGHT + ["rate_limited"], codes


async def test_the_signing_audit_address_ignores_a_header_from_an_untrusted_peer(
        tmp_path: Path) -> None:
    from agreements.events import _client_info

    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    for trusted, expected in (([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.5")):
        async with running_server(db, tmp_path, behind_tls=True,
                                  trusted_proxies=trusted) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, f"li{len(trusted)}")
            staff = await login(srv, http, f"li{len(trusted)}")
            _, session_id = await staff.new_session(f"AUDIT-{len(trusted)}")
            inv = await staff.invite(session_id)
            sio = socketio.AsyncClient(reconnection=False)
            party = await connect_with_header(srv.url, sio, inv["token"],
                                              "6.6.6.6, 203.0.113.5")
            room = await srv.services.rooms.get(session_id)
            ip, agent = _client_info(srv.services, room.member(party))
            await sio.disconnect()
        assert ip == expected, (trusted, ip)
        assert agent


async def connect_with_header(url: str, sio: socketio.AsyncClient, invite: str,
                              forwarded: str) -> str:
    joined: list[dict[str, Any]] = []
    sio.on("joined", lambda data: joined.append(data))
    await sio.connect(url, auth={"invite": invite, "name": "张三", "consent": True},
                      headers={"X-Forwarded-For": forwarded, "User-Agent": "test-agent"},
                      transports=["websocket"], wait_timeout=10)
    for _ in range(500):
        if joined:
            return str(joined[0]["participant_id"])
        await sio.sleep(0.02)
    raise AssertionError("not seated")

