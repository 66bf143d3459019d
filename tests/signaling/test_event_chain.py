"""The session log is hash-chained as it is written, on SQLite and PostgreSQL: appends
racing in one session still form one chain, and a stored event changed behind the
service's back (raw SQL) is found by re-walking it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pytest
from sqlalchemy import text

from signaling import eventlog
from signaling.accounts import create_user, ensure_office
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.db.models import Case, MediationSession
from signaling.eventchain import GENESIS, PURGED, ChainCheck, head_matches, verify_chain


@dataclass
class Log:
    db: Database
    session_id: str
    other_session_id: str


async def _sessions(db: Database) -> tuple[str, str]:
    async with db.session() as s:
        office = await ensure_office(s, "示例街道人民调解委员会")
        user = await create_user(s, office_id=office.id, username="li", password="x" * 12,
                                 role="mediator")
        case = Case(office_id=office.id, number="（2026）长新调字第015号", dispute_type="x",
                    created_by=user.id)
        s.add(case)
        await s.flush()
        one = MediationSession(case_id=case.id, created_by=user.id)
        two = MediationSession(case_id=case.id, created_by=user.id)
        s.add_all([one, two])
        await s.commit()
        return one.id, two.id


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    db = Database(database_url)
    await migrate(db)
    one, two = await _sessions(db)
    try:
        yield Log(db, one, two)
    finally:
        await db.close()


async def _append(log: Log, kind: str, session_id: str | None = None, **payload: object) -> int:
    async with log.db.session() as s:
        return await eventlog.append(s, session_id or log.session_id, kind, actor_id="p1",
                                     payload=dict(payload))


async def _check(log: Log, session_id: str | None = None) -> ChainCheck:
    async with log.db.session() as s:
        return await verify_chain(s, session_id or log.session_id)


async def _raw(log: Log, sql: str, **params: object) -> None:
    async with log.db.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def test_each_event_holds_the_hash_of_the_one_before(log: Log) -> None:
    empty = await _check(log)
    assert empty.intact and empty.events == 0 and empty.head == f"0:{GENESIS}"
    for n in range(5):
        await _append(log, "chat", text=f"第{n}句", n=n, nested={"b": [1, 2.5], "a": None})
    await _append(log, "chat", session_id=log.other_session_id, text="另一场")
    async with log.db.session() as s:
        rows = (await s.execute(text(
            "SELECT seq, prev_hash, entry_hash FROM session_events WHERE session_id = :s "
            "ORDER BY seq"), {"s": log.session_id})).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].entry_hash for i in range(1, 5))
    check = await _check(log)
    assert check.intact and check.events == 5 and check.head_hash == rows[-1].entry_hash
    async with log.db.session() as s:
        assert await head_matches(s, log.session_id, check.head)
        assert not await head_matches(s, log.session_id, f"5:{GENESIS}")
    assert (await _check(log, log.other_session_id)).events == 1


async def test_appends_racing_in_one_session_form_one_chain(log: Log) -> None:
    seqs = await asyncio.gather(*(_append(log, "participant.joined", n=n) for n in range(12)))
    assert sorted(seqs) == list(range(1, 13))
    check = await _check(log)
    assert check.intact, check.reason
    assert check.events == 12


@pytest.mark.parametrize("change", [
    "UPDATE session_events SET payload = '{\"text\": \"我没说过\"}' WHERE seq = 2",
    "UPDATE session_events SET kind = 'participant.left' WHERE seq = 2",
    "UPDATE session_events SET actor_id = 'p9' WHERE seq = 2",
    "UPDATE session_events SET seq = 7 WHERE seq = 2",
    "DELETE FROM session_events WHERE seq = 2",
    "DELETE FROM session_events WHERE seq = 3",
])
async def test_a_changed_stored_event_breaks_the_chain(log: Log, change: str) -> None:
    for n in range(3):
        await _append(log, "chat", text=f"第{n}句")
    assert (await _check(log)).intact
    await _raw(log, change + " AND session_id = :s", s=log.session_id)
    check = await _check(log)
    assert not check.intact
    assert check.broken_at == (3 if "seq = 3" in change else 2)
    assert check.reason


async def test_a_payload_rewritten_with_its_digest_still_breaks_the_chain(log: Log) -> None:
    from signaling.eventchain import payload_digest

    for n in range(3):
        await _append(log, "chat", text=f"第{n}句")
    forged = {"text": "我没说过"}
    await _raw(log, "UPDATE session_events SET payload = :p, payload_sha256 = :d "
                    "WHERE session_id = :s AND seq = 2",
               p='{"text": "我没说过"}', d=payload_digest(forged), s=log.session_id)
    check = await _check(log)
    assert not check.intact and check.broken_at == 2


async def test_a_chat_message_blanked_by_retention_keeps_the_chain(log: Log) -> None:
    await _append(log, "chat", text="我的电话是13812345678")
    await _append(log, "chat", text="好的")
    await _raw(log, "UPDATE session_events SET payload = :p WHERE session_id = :s AND seq = 1",
               p=f'{{"text": "{PURGED}"}}', s=log.session_id)
    check = await _check(log)
    assert check.intact and check.redacted == 1
    # Only a chat message may be blanked, and only to the marker.
    await _raw(log, "UPDATE session_events SET payload = :p WHERE session_id = :s AND seq = 2",
               p='{"text": "[blanked]"}', s=log.session_id)
    assert not (await _check(log)).intact


async def test_events_written_before_the_chain_existed_are_chained_by_the_migration(
        database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        one, _ = await _sessions(db)
        old = Log(db, one, "")
        await _alembic(db, "downgrade", "0002")  # as the log was before revision 0003
        await _raw(old, "UPDATE sessions SET event_seq = 2 WHERE id = :s", s=one)
        for seq in (1, 2):
            await _raw(old, "INSERT INTO session_events (session_id, seq, at, kind, payload) "
                            "VALUES (:s, :q, :at, 'chat', :p)",
                       s=one, q=seq, at=datetime(2026, 11, 25, 1, 0, seq, tzinfo=UTC),
                       p='{"text": "旧的"}')
        await _alembic(db, "upgrade", "heads")
        check = await _check(old)
        assert check.intact and check.events == 2, check.reason
        await _append(old, "chat", text="新的")
        again = await _check(old)
        assert again.intact and again.events == 3
    finally:
        await db.close()


async def _alembic(db: Database, step: Literal["upgrade", "downgrade"], revision: str) -> None:
    from signaling.db.migrate import run_alembic

    await run_alembic(db, step, revision)
