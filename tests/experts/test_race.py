"""The acceptance race: however many experts accept at once, on however many nodes,
exactly one wins and every other gets "already taken"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from experts.tables import ExpertCall, ExpertRing
from tests.conftest import REDIS_URL
from tests.experts.kit import Console, expert_server, office, open_console
from tests.signaling.harness import Client, connect, login

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow

ROUNDS = 8


async def race(med: Client, consoles: list[Console]) -> tuple[str, list[dict[str, Any]]]:
    """Open a call, wait until every console rings, then all accept at the same moment."""
    ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
    assert ack["ok"], ack
    call_id = ack["call"]["call_id"]
    assert ack["call"]["ringing"] == len(consoles)
    for c in consoles:
        await c.wait_for("ring", lambda d, cid=call_id: d["call_id"] == cid)
    answers = await asyncio.gather(*(c.call("accept", {"call_id": call_id}) for c in consoles))
    return call_id, list(answers)


def one_winner(answers: list[dict[str, Any]]) -> int:
    winners = [i for i, a in enumerate(answers) if a["ok"]]
    assert len(winners) == 1, answers
    losers = [a["error"]["code"] for a in answers if not a["ok"]]
    assert losers == ["already_taken"] * (len(answers) - 1), answers
    return winners[0]


async def test_five_experts_accept_at_once_and_exactly_one_joins(database_url: str,
                                                                 tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 5)
        med = await o.mediator_in()
        consoles = [await open_console(srv.url, e.token) for e in o.experts]
        wins: dict[int, int] = {}
        for _ in range(ROUNDS):
            call_id, answers = await race(med, consoles)
            w = one_winner(answers)
            wins[w] = wins.get(w, 0) + 1
            # The four losers hear at once that the call is gone.
            for i, c in enumerate(consoles):
                if i != w:
                    await c.wait_for("ring_cancelled", lambda d, cid=call_id: d["call_id"] == cid
                                     and d["reason"] == "taken")
            grant = answers[w]["grant"]
            expert = await connect(srv.url, {"resume": grant["token"]})
            assert expert.welcome["role"] == "expert" and expert.welcome["state"] == "room"
            await med.wait_for("expert_call_state", lambda d, cid=call_id: d["call_id"] == cid
                               and d["state"] == "joined")
            async with srv.services.db.session() as db:
                rings = list((await db.execute(select(ExpertRing.state).where(
                    ExpertRing.call_id == call_id))).scalars())
                call = await db.get(ExpertCall, call_id)
            assert sorted(rings) == ["accepted"] + ["taken"] * 4
            assert call is not None and call.accepted_by == consoles[w].expert_id
            room = await srv.services.rooms.get(o.session_id)
            assert [m.role for m in room.in_room()].count("expert") == 1
            ack = await med.call("expert_call_end", {"call_id": call_id})
            assert ack["ok"] and ack["call"]["state"] == "ended", ack
            await expert.wait_for("removed")
            await consoles[w].wait_for("call_ended", lambda d, cid=call_id: d["call_id"] == cid)
        assert sum(wins.values()) == ROUNDS


async def test_a_late_accept_is_told_already_taken(database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2)
        med = await o.mediator_in()
        a, b = [await open_console(srv.url, e.token) for e in o.experts]
        ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        call_id = ack["call"]["call_id"]
        await b.wait_for("ring")
        assert (await a.call("accept", {"call_id": call_id}))["ok"]
        late = await b.call("accept", {"call_id": call_id})
        assert late["error"]["code"] == "already_taken"
        # The winner answering twice is not a second win either.
        again = await a.call("accept", {"call_id": call_id})
        assert again["error"]["code"] == "already_accepted"


async def test_two_nodes_handling_the_same_call_yield_one_winner(pg_database: str,
                                                                 redis_prefix: str,
                                                                 tmp_path: Path) -> None:
    nodes = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    async with expert_server(pg_database, tmp_path / "a", **nodes) as node_a, \
            expert_server(pg_database, tmp_path / "b", **nodes) as node_b, \
            aiohttp.ClientSession() as http:
        o = await office(node_a, http, 5)
        med = await o.mediator_in(node_a)
        # Experts spread over both nodes; each logs in on the node it talks to.
        consoles = []
        for i, e in enumerate(o.experts):
            node = node_a if i < 2 else node_b
            staff = await login(node, http, e.user["username"])
            consoles.append(await open_console(node.url, staff.token))
        for _ in range(ROUNDS // 2):
            call_id, answers = await race(med, consoles)
            w = one_winner(answers)
            node = node_a if w < 2 else node_b
            other = node_b if node is node_a else node_a
            # The grant works on either node: room state and seats are shared.
            expert = await connect(other.url, {"resume": answers[w]["grant"]["token"]})
            assert expert.welcome["state"] == "room"
            await med.wait_for("expert_call_state", lambda d, cid=call_id: d["call_id"] == cid
                               and d["state"] == "joined")
            ack = await med.call("expert_call_end", {"call_id": call_id})
            assert ack["ok"], ack
            await expert.wait_for("removed")


async def test_an_expert_accepting_two_calls_at_once_wins_only_one(database_url: str,
                                                                  tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        first = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        second = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        ids = [first["call"]["call_id"], second["call"]["call_id"]]
        for cid in ids:
            await con.wait_for("ring", lambda d, cid=cid: d["call_id"] == cid)
        answers = await asyncio.gather(*(con.call("accept", {"call_id": c}) for c in ids))
        assert sorted(a["ok"] for a in answers) == [False, True], answers
        assert [a["error"]["code"] for a in answers if not a["ok"]] == ["expert_busy"]
