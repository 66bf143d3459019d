"""The append-only event log of a session, readable only by those who were in the space,
hash-chained as it is written (``signaling.eventchain``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import eventchain
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, SessionEvent


async def append(db: AsyncSession, session_id: str, kind: str, *, actor_id: str | None = None,
                 caucus_id: str | None = None, payload: dict[str, Any] | None = None) -> int:
    """Append one event, chained to the session's previous one, and commit; returns its
    sequence number within the session.

    The counter is bumped with UPDATE ... RETURNING in the same transaction as the
    insert: the row lock serialises appends to one session across nodes (PostgreSQL:
    another append waits on it until this transaction ends, then reads this event as its
    predecessor), and SQLite's single writer does the same, so no two events share a
    number or a predecessor (see ``signaling.eventchain``)."""
    seq = int((await db.execute(
        update(MediationSession).where(MediationSession.id == session_id)
        .values(event_seq=MediationSession.event_seq + 1)
        .returning(MediationSession.event_seq))).scalar_one())
    prev = (await db.scalar(
        select(SessionEvent.entry_hash).where(SessionEvent.session_id == session_id)
        .order_by(SessionEvent.seq.desc()).limit(1))) or eventchain.GENESIS
    body = eventchain.normalise_payload(payload)
    event = SessionEvent(session_id=session_id, seq=seq, at=utcnow(), kind=kind,
                         actor_id=actor_id, caucus_id=caucus_id, payload=body,
                         payload_sha256=eventchain.payload_digest(body), prev_hash=prev)
    event.entry_hash = eventchain.hash_of(event, prev, event.payload_sha256 or "")
    db.add(event)
    await db.commit()
    return seq


async def read(db: AsyncSession, session_id: str, *, caucuses: set[str] | None,
               after: int = 0, limit: int = 500) -> list[SessionEvent]:
    """Events of a session. ``caucuses=None`` means all (staff); otherwise joint-session
    events plus those of the listed caucuses only."""
    stmt = select(SessionEvent).where(SessionEvent.session_id == session_id,
                                      SessionEvent.seq > after)
    if caucuses is not None:
        stmt = stmt.where(SessionEvent.caucus_id.is_(None)
                          | SessionEvent.caucus_id.in_(sorted(caucuses)))
    return list((await db.execute(stmt.order_by(SessionEvent.seq).limit(limit))).scalars())
