"""A node that dies leaves its calls to the others: a ringing call still expires, and a
won call's seat is still followed (joined, then ended, the ledger closed)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, update

from experts import config
from experts.tables import ExpertCall, ExpertVisit
from signaling.db.base import utcnow
from tests.conftest import REDIS_URL
from tests.experts.kit import expert_server, office, open_console
from tests.signaling.harness import Server, connect, login

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow


async def state_of(srv: Server, call_id: str, want: str) -> ExpertCall:
    for _ in range(500):
        async with srv.services.db.session() as db:
            c = await db.get(ExpertCall, call_id)
        if isinstance(c, ExpertCall) and c.state == want:
            return c
        await asyncio.sleep(0.02)
    raise AssertionError(f"call {call_id} never became {want}")


async def test_a_dead_nodes_calls_are_taken_over(pg_database: str, redis_prefix: str,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "SWEEP_S", 0.1)
    monkeypatch.setattr(config, "SWEEP_GRACE_S", 0.0)
    nodes = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    async with expert_server(pg_database, tmp_path / "b", **nodes) as node_b, \
            aiohttp.ClientSession() as http:
        async with expert_server(pg_database, tmp_path / "a", **nodes) as node_a:
            o = await office(node_a, http, 2, availability=[])
            med = await o.mediator_in(node_a)
            on_a = await open_console(node_a.url, o.experts[0].token)
            won = await med.call("expert_call", {"domain": "property", "scope": "joint"})
            won_id = won["call"]["call_id"]
            await on_a.wait_for("ring")
            grant = (await on_a.call("accept", {"call_id": won_id}))["grant"]
            b_token = (await login(node_b, http, o.experts[1].user["username"])).token
            on_b = await open_console(node_b.url, b_token)
            ringing = await med.call("expert_call", {"domain": "property", "scope": "joint"})
            ring_id = ringing["call"]["call_id"]
            await on_b.wait_for("ring")
        # Node A is gone, with the ringing call's timer and the won call's watcher.
        async with node_b.services.db.session() as db:
            await db.execute(update(ExpertCall).where(ExpertCall.id == ring_id).values(
                deadline=utcnow() - timedelta(minutes=1)))
            await db.commit()
        await state_of(node_b, ring_id, "expired")
        await on_b.wait_for("ring_cancelled", lambda d: d["call_id"] == ring_id)
        expert = await connect(node_b.url, {"resume": grant["token"]})
        await state_of(node_b, won_id, "joined")
        assert (await expert.call("leave"))["ok"]
        c = await state_of(node_b, won_id, "ended")
        assert c.end_reason == "expert_left"
        async with node_b.services.db.session() as db:
            visit = (await db.execute(select(ExpertVisit))).scalar_one()
        assert visit.call_id == won_id and visit.left_at is not None
