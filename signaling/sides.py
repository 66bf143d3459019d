"""The named sides of a case: 申请人 (A) and 被申请人 (B) always, and 第三人 or more when the
mediator adds them. Parties, agents and interpreters' links name a side by its key.

Keys are one letter, A to L, so that a payload from before named sides ("A", "B") means
what it meant: A is 申请人, B is 被申请人, whatever the case later renames them to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import Principal
from signaling.cases import case_to_manage, get_case
from signaling.db.models import SIDE_KEYS, CaseSide, MediationSession
from signaling.errors import BadRequest, Conflict

DEFAULT_NAMES = {"A": "申请人", "B": "被申请人"}
MAX_SIDES = len(SIDE_KEYS)


@dataclass(frozen=True)
class Side:
    key: str
    name: str


async def sides_of_case(db: AsyncSession, case_id: str) -> list[Side]:
    """Every side of the case, A and B first, then those added, in key order."""
    names = dict(DEFAULT_NAMES)
    rows = (await db.execute(select(CaseSide).where(CaseSide.case_id == case_id))).scalars()
    for r in rows:
        names[r.key] = r.name
    return [Side(k, names[k]) for k in sorted(names)]


async def sides_of_session(db: AsyncSession, session_id: str) -> list[Side]:
    s = await db.get(MediationSession, session_id)
    return [] if s is None else await sides_of_case(db, s.case_id)


async def live_sessions(db: AsyncSession, case_id: str) -> list[str]:
    stmt = select(MediationSession.id).where(MediationSession.case_id == case_id,
                                             MediationSession.status == "live")
    return list((await db.execute(stmt)).scalars())


async def check_side(db: AsyncSession, case_id: str, key: str | None) -> None:
    """Refuse a side the case does not have (``side_not_found``)."""
    if key is None:
        return
    if key not in {s.key for s in await sides_of_case(db, case_id)}:
        raise BadRequest(f"This case has no side {key!r}; add it first.",
                         code="side_not_found")


async def list_sides(db: AsyncSession, p: Principal, case_id: str) -> list[Side]:
    case = await get_case(db, p, case_id)
    return await sides_of_case(db, case.id)


async def add_side(db: AsyncSession, p: Principal, case_id: str, name: str) -> Side:
    """Add a side with the next free key (C, D, ...)."""
    case = await case_to_manage(db, p, case_id)
    have = await sides_of_case(db, case.id)
    if any(s.name == name for s in have):
        raise Conflict("This case already has a side of that name.", code="side_name_taken")
    free = [k for k in SIDE_KEYS if k not in {s.key for s in have}]
    if not free:
        raise Conflict(f"A case has at most {MAX_SIDES} sides.", code="too_many_sides")
    db.add(CaseSide(case_id=case.id, key=free[0], name=name))
    await db.commit()
    return Side(free[0], name)


async def rename_side(db: AsyncSession, p: Principal, case_id: str, key: str,
                      name: str) -> Side:
    case = await case_to_manage(db, p, case_id)
    have = await sides_of_case(db, case.id)
    if key not in {s.key for s in have}:
        raise BadRequest(f"This case has no side {key!r}.", code="side_not_found")
    if any(s.name == name and s.key != key for s in have):
        raise Conflict("This case already has a side of that name.", code="side_name_taken")
    row = (await db.execute(select(CaseSide).where(CaseSide.case_id == case.id,
                                                   CaseSide.key == key))).scalar_one_or_none()
    if row is None:
        db.add(CaseSide(case_id=case.id, key=key, name=name))
    else:
        row.name = name
    await db.commit()
    return Side(key, name)
