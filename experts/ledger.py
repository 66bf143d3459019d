"""The time ledger (在线法律服务时间银行): when each expert joined and left each case,
and the minutes credited for it."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from experts.tables import ExpertCall, ExpertProfile, ExpertVisit
from signaling.db.models import Case, Office


def credited_minutes(joined_at: datetime, left_at: datetime) -> int:
    """Whole minutes, rounded up: an expert who came for a moment gave a minute."""
    seconds = max(0.0, (left_at - joined_at).total_seconds())
    return max(1, math.ceil(seconds / 60.0))


async def open_visit(db: AsyncSession, call: ExpertCall, expert_id: str, at: datetime) -> None:
    """Start the ledger line of a call; a second attempt (another node) changes nothing."""
    db.add(ExpertVisit(call_id=call.id, expert_id=expert_id, office_id=call.office_id,
                       case_id=call.case_id, session_id=call.session_id, scope=call.scope,
                       joined_at=at))
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()


async def close_visit(db: AsyncSession, call_id: str, at: datetime) -> None:
    """Fix the left time and credited minutes, once."""
    v = (await db.execute(select(ExpertVisit).where(ExpertVisit.call_id == call_id))) \
        .scalar_one_or_none()
    if v is None or v.left_at is not None:
        return
    await db.execute(update(ExpertVisit).where(ExpertVisit.id == v.id,
                                               ExpertVisit.left_at.is_(None))
                     .values(left_at=at, minutes=credited_minutes(v.joined_at, at)))
    await db.commit()


async def visits(db: AsyncSession, office_id: str, *, expert_id: str | None = None,
                 since: datetime | None = None, until: datetime | None = None
                 ) -> list[ExpertVisit]:
    """Closed and open visits of an office, by the time the expert joined: the time given
    to its cases (by its own experts or by experts lent to it) and the time its own
    experts gave to other offices of the city (``served_office`` in the CSV tells which)."""
    own_experts = select(ExpertProfile.id).where(ExpertProfile.office_id == office_id)
    stmt = select(ExpertVisit).where(or_(ExpertVisit.office_id == office_id,
                                         ExpertVisit.expert_id.in_(own_experts)))
    if expert_id is not None:
        stmt = stmt.where(ExpertVisit.expert_id == expert_id)
    if since is not None:
        stmt = stmt.where(ExpertVisit.joined_at >= since)
    if until is not None:
        stmt = stmt.where(ExpertVisit.joined_at < until)
    return list((await db.execute(stmt.order_by(ExpertVisit.joined_at))).scalars())


CSV_COLUMNS = ("visit_id", "expert_id", "expert_name", "case_number", "session_id", "scope",
               "joined_at", "left_at", "minutes", "served_office", "expert_office")
"""``served_office``: the office whose case the time was given to; ``expert_office``: the
expert's own. They differ for time an expert gave to another office of the city."""


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet program; neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def to_csv(db: AsyncSession, rows: list[ExpertVisit]) -> str:
    profiles = {p.id: p for p in (await db.execute(select(ExpertProfile).where(
        ExpertProfile.id.in_({r.expert_id for r in rows})))).scalars()}
    names = {i: p.display_name for i, p in profiles.items()}
    homes = {i: p.office_id for i, p in profiles.items()}
    offices = {o.id: o.name for o in (await db.execute(select(Office).where(Office.id.in_(
        {r.office_id for r in rows} | set(homes.values()))))).scalars()}
    numbers = {c.id: c.number for c in (await db.execute(select(Case).where(
        Case.id.in_({r.case_id for r in rows})))).scalars()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r.id, r.expert_id, _cell(names.get(r.expert_id, "")),
                    _cell(numbers.get(r.case_id, "")), r.session_id, r.scope,
                    r.joined_at.isoformat(), r.left_at.isoformat() if r.left_at else "",
                    r.minutes, _cell(offices.get(r.office_id, "")),
                    _cell(offices.get(homes.get(r.expert_id, ""), ""))])
    return "\ufeff" + buf.getvalue()
