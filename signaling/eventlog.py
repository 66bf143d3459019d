"""The append-only event log of a session, readable only by those who were in the space."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.db.models import SessionEvent

APPEND_RETRIES = 5


async def append(db: AsyncSession, session_id: str, kind: str, *, actor_id: str | None = None,
                 caucus_id: str | None = None, payload: dict[str, Any] | None = None) -> int:
    """Append one event and commit; returns its sequence number within the session."""
    for _ in range(APPEND_RETRIES):
        seq = (await db.execute(select(func.coalesce(func.max(SessionEvent.seq), 0))
                                .where(SessionEvent.session_id == session_id))).scalar_one() + 1
        db.add(SessionEvent(session_id=session_id, seq=seq, kind=kind, actor_id=actor_id,
                            caucus_id=caucus_id, payload=payload or {}))
        try:
            await db.commit()
            return int(seq)
        except IntegrityError:
            # Another node took this seq: read the max again.
            await db.rollback()
    raise RuntimeError("could not append to the event log")


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
