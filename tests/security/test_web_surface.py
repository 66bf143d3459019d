"""The rest of the hardened surface: Socket.IO Origin check, cookie flags, CSRF on
cookie-authenticated changes, join tokens (entropy, fragment, stored only as hashes) and
logs free of tokens and passwords."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
import socketio
from sqlalchemy import select

from signaling.db.models import Invite
from tests.signaling.harness import PASSWORD, Server, login, make_user, running_server

pytestmark = pytest.mark.slow


async def test_socketio_refuses_a_foreign_origin_and_accepts_our_own(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        auth = {"token": staff.token, "session_id": session_id}
        evil = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await evil.connect(srv.url, auth=auth, headers={"Origin": "https://evil.example"},
                               transports=["websocket"], wait_timeout=10)
        await evil.disconnect()
        ours = socketio.AsyncClient(reconnection=False)
        await ours.connect(srv.url, auth=auth, headers={"Origin": srv.url},
                           transports=["websocket"], wait_timeout=10)
        assert ours.connected
        await ours.disconnect()


async def login_cookie(srv: Server, http: aiohttp.ClientSession) -> tuple[str, str]:
    async with http.post(srv.url + "/api/v1/auth/login",
                         json={"username": "li", "password": PASSWORD}) as r:
        assert r.status == 200
        return r.headers.getall("Set-Cookie")[0], (await r.json())["csrf_token"]


@pytest.mark.parametrize("behind_tls", [False, True])
async def test_the_login_cookie_is_httponly_samesite_and_secure_behind_tls(
        tmp_path: Path, behind_tls: bool) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path,
                              behind_tls=behind_tls) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        cookie, _ = await login_cookie(srv, http)
        flags = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
        assert {"httponly", "samesite", "path"} <= flags, cookie
        assert "samesite=strict" in cookie.lower().replace(" ", "")
        assert ("secure" in flags) is behind_tls, cookie


async def test_cookie_authenticated_changes_need_the_csrf_header(tmp_path: Path) -> None:
    # unsafe=True: aiohttp's jar otherwise keeps no cookies for an IP-address host.
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path) as srv, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await make_user(srv, "li")
        _, csrf = await login_cookie(srv, http)  # the session keeps the cookie
        case = {"number": "CSRF-1", "dispute_type": "debt"}
        async with http.post(srv.url + "/api/v1/cases", json=case) as r:
            assert r.status == 403 and (await r.json())["error"]["code"] == "csrf_failed"
        async with http.post(srv.url + "/api/v1/cases", json=case,
                             headers={"X-CSRF-Token": "x" * len(csrf)}) as r:
            assert r.status == 403
        async with http.post(srv.url + "/api/v1/cases", json=case,
                             headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 201
        async with http.get(srv.url + "/api/v1/cases") as r:  # reads need no header
            assert r.status == 200


async def test_join_tokens_are_long_in_the_fragment_and_stored_only_as_hashes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Our loggers and the transport's, not aiosqlite's: its worker thread logs at DEBUG
    # after the test's handler has closed.
    for name in ("tiaojie", "signaling", "socketio", "engineio", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        inv = await staff.invite(session_id)
        token = inv["token"]
        assert len(token) * 6 >= 128, token  # url-safe base64: 6 bits a character
        assert inv["url"].endswith(f"#t={token}"), "the token must never reach a server"
        async with srv.services.db.session() as db:
            rows = (await db.execute(select(Invite))).scalars().all()
        assert len(rows) == 1
        assert all(token not in str(v) for v in vars(rows[0]).values())
        # Use it, fail a login and a join: none of the secrets reaches a log line.
        party = socketio.AsyncClient(reconnection=False)
        await party.connect(srv.url, auth={"invite": token, "name": "张三", "consent": True},
                            transports=["websocket"], wait_timeout=10)
        await party.disconnect()
        bad = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await bad.connect(srv.url, auth={"invite": token + "x", "name": "李四",
                                             "consent": True},
                              transports=["websocket"], wait_timeout=10)
        await bad.disconnect()
        async with http.post(srv.url + "/api/v1/auth/login",
                             json={"username": "li", "password": "guess-" + PASSWORD}):
            pass
    logged = caplog.text
    for secret in (token, staff.token, PASSWORD):
        assert secret not in logged


async def test_an_abandoned_polling_handshake_does_not_hold_the_shutdown(
        tmp_path: Path) -> None:
    """A client that opens an Engine.IO long-polling session and never polls again left
    ``sio.eio.disconnect()`` waiting forever for its close packet to be fetched."""
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.get(srv.url + "/socket.io/?EIO=4&transport=polling") as r:
                assert r.status == 200 and "sid" in await r.text()
    # Leaving the block ran the app's shutdown; the test's time-out guards a hang.
