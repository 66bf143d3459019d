"""The call state machine: only the listed transitions happen, each exactly once, and a
terminal call never moves again. Also the presence set that decides who is "online"."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from experts import presence
from experts.call import TERMINAL, TRANSITIONS, advance, sources
from experts.presence import LocalPresence, RedisPresence
from experts.tables import ExpertCall
from signaling.accounts import create_user, ensure_office
from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.db.models import Case, MediationSession
from tests.conftest import REDIS_URL


def test_every_state_is_reachable_and_terminal_states_lead_nowhere() -> None:
    assert set(sources("accepted")) == {"ringing"}
    assert set(sources("ended")) == {"accepted", "joined"}
    assert set(sources("expired")) == {"ringing", "accepted"}
    for state in TERMINAL:
        assert state not in TRANSITIONS
    with pytest.raises(ValueError, match="ringing"):
        sources("ringing")  # a call never rings again


async def a_call(db: Database) -> str:
    async with db.session() as s:
        office = await ensure_office(s, "测试调委会")
        user = await create_user(s, office_id=office.id, username="m", password="password1",
                                 role="mediator")
        case = Case(office_id=office.id, number="1", dispute_type="x", created_by=user.id)
        s.add(case)
        await s.flush()
        session = MediationSession(case_id=case.id, created_by=user.id)
        s.add(session)
        await s.flush()
        c = ExpertCall(office_id=office.id, case_id=case.id, session_id=session.id,
                       mediator_participant_id="p" * 32, domain="legal", scope="joint",
                       deadline=utcnow() + timedelta(minutes=1))
        s.add(c)
        await s.commit()
        return c.id


async def test_concurrent_moves_out_of_ringing_have_one_winner(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        call_id = await a_call(db)

        async def attempt(to: str, who: str) -> bool:
            async with db.session() as s:
                return await advance(s, call_id, to,  # type: ignore[arg-type]
                                     only_from=("ringing",),
                                     accepted_by=who if to == "accepted" else None)

        # Twenty experts accept while the ring time-out and the mediator's withdrawal fire
        # (each of them, as the switchboard does, moves a *ringing* call only).
        moves = [("accepted", f"{i:032x}") for i in range(20)] + [("expired", ""),
                                                                 ("cancelled", "")]
        results = await asyncio.gather(*(attempt(to, who) for to, who in moves))
        assert sum(results) == 1
        async with db.session() as s:
            c = (await s.execute(select(ExpertCall))).scalar_one()
        winner = moves[results.index(True)]
        assert c.state == winner[0]
        # What is over stays over: nothing moves a terminal call, and a call never rings
        # again.
        async with db.session() as s:
            assert await advance(s, call_id, "expired", only_from=("ringing",)) is False
            assert await advance(s, call_id, "ended") is (c.state == "accepted")
            assert not await advance(s, call_id, "joined")
            assert not await advance(s, call_id, "accepted")
    finally:
        await db.close()


async def test_local_presence_counts_an_expert_online_while_any_console_is_open() -> None:
    p = LocalPresence()
    await p.add("e1", "s1")
    await p.add("e1", "s2")
    await p.remove("e1", "s1")
    assert await p.online() == {"e1"}
    await p.remove("e1", "s2")
    assert await p.online() == set()


async def test_redis_presence_forgets_consoles_nobody_vouches_for(
        redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Redis.from_url(REDIS_URL)
    try:
        node_a, node_b = RedisPresence(r, redis_prefix), RedisPresence(r, redis_prefix)
        await node_a.add("e1", "s1")
        await node_b.add("e2", "s2")
        assert await node_a.online() == await node_b.online() == {"e1", "e2"}
        # Node B dies: it stops vouching; once its entry is older than the TTL, e2 is gone
        # for everyone, while node A's heartbeat keeps e1.
        await r.zadd(f"{redis_prefix}:experts:presence",
                     {"e2:s2": time.time() - presence.PRESENCE_TTL_S - 1})
        await node_a.refresh([("e1", "s1")])
        assert await node_a.online() == {"e1"}
        assert await r.zcard(f"{redis_prefix}:experts:presence") == 1
    finally:
        await r.aclose()
