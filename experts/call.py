"""An expert call's states and the one function that moves a call between them.

A call is ``ringing`` until one expert wins it (``accepted``), everyone declines
(``declined``), nobody answers in time (``expired``) or the mediator gives up
(``cancelled``). The winner's seat makes it ``joined`` once they are in the room, and the
mediator (or the expert leaving) makes it ``ended``. An accepted call whose winner never
arrives ``expired`` with the grant.

Rules worth writing down:

* Only ``advance`` writes ``ExpertCall.state``. It is a conditional UPDATE (``... WHERE
  state IN (allowed sources)``), so that two nodes attempting the same move cannot both
  succeed: the database decides, and exactly one caller sees ``True``.
* Once a call leaves ``ringing`` it never rings again, and once it is terminal it cannot
  be re-used: the mediator makes a new call. A grant is only ever valid while its call is
  ``accepted`` or ``joined``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from experts.tables import ExpertCall, ExpertRing

CallState = Literal["ringing", "accepted", "joined", "declined", "expired", "cancelled", "ended"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "ringing": frozenset({"accepted", "declined", "expired", "cancelled"}),
    "accepted": frozenset({"joined", "expired", "ended"}),
    "joined": frozenset({"ended"}),
}
TERMINAL = frozenset({"declined", "expired", "cancelled", "ended"})
LIVE = ("accepted", "joined")
"""States in which the winner holds a grant (and counts as busy)."""

RING_OPEN = ("ringing", "notified")
"""Ring states in which the expert may still answer."""


def sources(to: str) -> list[str]:
    """Every state from which ``to`` may be reached."""
    out = [s for s, targets in TRANSITIONS.items() if to in targets]
    if not out:
        raise ValueError(f"no transition leads to {to!r}")
    return out


async def advance(db: AsyncSession, call_id: str, to: CallState, *,
                  only_from: tuple[str, ...] | None = None,
                  when: ColumnElement[bool] | None = None, commit: bool = True,
                  **values: Any) -> bool:
    """Move the call to ``to`` if its current state allows it (and ``when`` holds); commits
    unless ``commit`` is False (the caller then commits it with its own writes).

    ``only_from`` narrows the allowed sources to what the caller has in mind: the ring
    time-out expires a *ringing* call, and must not expire one a winner has just accepted.
    Returns whether this caller made the move; False means someone else moved it first
    or the rule forbids it, and nothing was written.
    """
    allowed = sources(to)
    if only_from is not None:
        allowed = [s for s in allowed if s in only_from]
    stmt = update(ExpertCall).where(ExpertCall.id == call_id, ExpertCall.state.in_(allowed))
    if when is not None:
        stmt = stmt.where(when)
    res = await db.execute(stmt.values(state=to, **values))
    if commit:
        await db.commit()
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


async def settle_ring(db: AsyncSession, call_id: str, expert_id: str, to: str,
                      at: datetime, *, while_ringing: bool = False) -> bool:
    """Close one expert's ring if it is still open; commits. True when this call closed it.

    ``while_ringing`` closes it only if the call itself still rings, so that a time-out
    racing a winner does not report the losers as "no answer" instead of "taken".
    """
    stmt = update(ExpertRing).where(
        ExpertRing.call_id == call_id, ExpertRing.expert_id == expert_id,
        ExpertRing.state.in_(RING_OPEN))
    if while_ringing:
        stmt = stmt.where(ExpertRing.call_id.in_(
            select(ExpertCall.id).where(ExpertCall.id == call_id,
                                        ExpertCall.state == "ringing")))
    res = await db.execute(stmt.values(state=to, answered_at=at))
    await db.commit()
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


async def settle_open_rings(db: AsyncSession, call_id: str, to: str, at: datetime) -> None:
    """Close every ring of the call still open (they lost, or the call closed); commits."""
    await db.execute(update(ExpertRing).where(
        ExpertRing.call_id == call_id, ExpertRing.state.in_(RING_OPEN))
        .values(state=to, answered_at=at))
    await db.commit()


async def settle_race(db: AsyncSession, call_id: str, winner_id: str, at: datetime
                      ) -> list[str]:
    """After a win: the winner's ring is accepted, every other open ring is taken, in
    one transaction. Returns the experts whose ring was taken (to tell them at once)."""
    await db.execute(update(ExpertRing).where(
        ExpertRing.call_id == call_id, ExpertRing.expert_id == winner_id)
        .values(state="accepted", answered_at=at))
    losers = list((await db.execute(update(ExpertRing).where(
        ExpertRing.call_id == call_id, ExpertRing.state.in_(RING_OPEN))
        .values(state="taken", answered_at=at).returning(ExpertRing.expert_id))).scalars())
    await db.commit()
    return losers
