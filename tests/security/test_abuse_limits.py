"""Abuse limits at the edges: login (per username and per address) and join-link
redemption, on one embedded node and on two server processes sharing Redis."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from signaling.ratelimit import INVITE_PER_IP, LOGIN_PER_USER
from tests.conftest import REDIS_URL
from tests.signaling.harness import PASSWORD, login, make_user, running_server
from tests.signaling.nodes import cli, node_env, start_node

pytestmark = pytest.mark.slow


async def attempt(http: aiohttp.ClientSession, url: str, username: str,
                  password: str = "wrong password") -> tuple[int, dict[str, Any], str | None]:
    async with http.post(url + "/api/v1/auth/login",
                         json={"username": username, "password": password}) as r:
        return r.status, await r.json(), r.headers.get("Retry-After")


async def test_login_is_limited_per_username_with_429_and_retry_after(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        st, _, _ = await attempt(http, srv.url, "li", PASSWORD)
        assert st == 200  # a success resets the count: logging in often is not abuse
        for _ in range(LOGIN_PER_USER.hits):
            st, body, _ = await attempt(http, srv.url, "nobody")
            assert st == 401, body
        st, body, retry = await attempt(http, srv.url, "nobody")
        assert st == 429 and body["error"]["code"] == "rate_limited", body
        assert retry is not None and 0 < int(retry) <= LOGIN_PER_USER.window_s
        # Another account from the same address is not blocked by that one.
        assert (await login(srv, http, "li")).token


async def test_two_nodes_sharing_redis_count_one_login_budget(
        tmp_path: Path, pg_database: str, redis_prefix: str) -> None:
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path)
    cli(env, "migrate")
    n1, n2 = start_node(env, tmp_path), start_node(env, tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(LOGIN_PER_USER.hits):
                st, _, _ = await attempt(http, (n1, n2)[i % 2].url, "target")
                assert st == 401
            for node in (n1, n2):
                st, body, retry = await attempt(http, node.url, "target")
                assert st == 429 and retry, body
    finally:
        n1.stop()
        n2.stop()


async def refused_code(url: str, auth: dict[str, Any]) -> dict[str, Any]:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    await sio.disconnect()
    return dict(errors[0]["data"])


async def test_failed_join_links_are_limited_per_address_but_good_ones_are_not(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        good = await staff.invite(session_id, max_uses=50)
        party = {"name": "张三", "consent": True}
        # Valid joins from one address are not counted.
        for _ in range(INVITE_PER_IP.hits + 2):
            sio = socketio.AsyncClient(reconnection=False)
            await sio.connect(srv.url, auth={"invite": good["token"], **party},
                              transports=["websocket"], wait_timeout=10)
            await sio.disconnect()
        for _ in range(INVITE_PER_IP.hits):
            err = await refused_code(srv.url, {"invite": uuid.uuid4().hex * 2, **party})
            assert err["code"] == "invite_invalid"
        err = await refused_code(srv.url, {"invite": good["token"], **party})
        assert err["code"] == "rate_limited" and err["retry_after"] > 0, err
