"""Two ``tiaojie serve`` processes sharing PostgreSQL and Redis serve one room together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.signaling.harness import PASSWORD, connect, login_at
from tests.signaling.nodes import Node, cli, node_env, start_node

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def two_nodes(pg_database: str, redis_prefix: str, tmp_path: Path) -> Iterator[
        tuple[Node, Node, dict[str, str]]]:
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path)
    cli(env, "migrate")
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    n1 = start_node(env, tmp_path)
    n2 = start_node(env, tmp_path)
    try:
        yield n1, n2, env
    finally:
        n1.stop()
        n2.stop()


async def test_a_participant_on_node_2_is_admitted_and_chats_with_a_mediator_on_node_1(
        two_nodes: tuple[Node, Node, dict[str, str]]) -> None:
    n1, n2, _ = two_nodes
    async with aiohttp.ClientSession() as http:
        staff = await login_at(n1.url, http, "li")
        _, session_id = await staff.new_session()
        inv = await staff.invite(session_id, side="A")
        med = await connect(n1.url, {"token": staff.token, "session_id": session_id})
        party = await connect(n2.url, {"invite": inv["token"], "name": "张三", "consent": True})
        waiting = await med.wait_for("lobby", lambda d: d["waiting"])
        assert waiting["waiting"][0]["participant_id"] == party.pid
        assert (await med.call("admit", {"participant_id": party.pid}))["ok"]
        await party.wait_for("admitted")
        assert (await party.call("chat", {"text": "你好,调解员"}))["ok"]
        await med.wait_for("chat", lambda d: d["text"] == "你好,调解员")
        assert (await med.call("chat", {"text": "你好"}))["ok"]
        await party.wait_for("chat", lambda d: d["text"] == "你好")
        # The state both nodes answer with is one state.
        async with http.get(n2.url + f"/api/v1/sessions/{session_id}",
                            headers={"Authorization": f"Bearer {staff.token}"}) as r:
            state = await r.json()
        assert set(state["joint"]) == {med.pid, party.pid}
        # Removing from node 1 disconnects the party's connection on node 2.
        assert (await med.call("remove", {"participant_id": party.pid}))["ok"]
        await party.wait_for("removed")
        for c in (med, party):
            if c.sio.connected:
                await c.close()


async def test_a_client_of_a_killed_node_resumes_its_seat_on_the_other(
        two_nodes: tuple[Node, Node, dict[str, str]]) -> None:
    n1, n2, _ = two_nodes
    async with aiohttp.ClientSession() as http:
        staff = await login_at(n1.url, http, "li")
        _, session_id = await staff.new_session()
        med = await connect(n1.url, {"token": staff.token, "session_id": session_id})
        party = await connect(n2.url, {"invite": (await staff.invite(session_id))["token"],
                                       "name": "李四", "consent": True})
        assert (await med.call("admit", {"participant_id": party.pid}))["ok"]
        await party.wait_for("admitted")
        resume = party.welcome["resume_token"]
        n2.kill()
        back = await connect(n1.url, {"resume": resume})
        assert back.pid == party.pid and back.welcome["state"] == "room"
        assert (await back.call("chat", {"text": "还在"}))["ok"]
        await med.wait_for("chat", lambda d: "还在" in d["text"])
        await back.close()
        await med.close()
