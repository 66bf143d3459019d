"""Cases and their sessions, always scoped to the caller's office."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import case_states
from signaling.accounts import Principal
from signaling.db.base import utcnow
from signaling.db.models import Case, CaseEvent, MediationSession, User
from signaling.errors import Conflict, Forbidden, NotFound
from signaling.schemas import CaseIn, CaseMoveIn, SessionIn

STAFF_WHO_MANAGE = ("mediator", "admin")
STAFF_WHO_READ = ("mediator", "admin", "clerk")


def ensure_staff(p: Principal, roles: tuple[str, ...]) -> None:
    if p.role not in roles:
        raise Forbidden("Your role may not do this.", code="role_not_allowed")


async def create_case(db: AsyncSession, p: Principal, body: CaseIn) -> Case:
    ensure_staff(p, STAFF_WHO_MANAGE)
    case = Case(office_id=p.office_id, number=body.number, dispute_type=body.dispute_type,
                summary=body.summary, created_by=p.user_id,
                mediator_id=p.user_id if p.role == "mediator" else None,
                status=case_states.INITIAL)
    db.add(case)
    try:
        await db.flush()
        db.add(CaseEvent(case_id=case.id, actor_id=p.user_id, from_status=None,
                         to_status=case.status, reason=""))
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict("A case with this number already exists.", code="case_number_taken")
    return case


async def move_case(db: AsyncSession, p: Principal, case_id: str, body: CaseMoveIn) -> Case:
    """Move a case to another state of its life, as ``case_states`` allows, and log it.

    The case's mediator or an administrator of its office moves it; a mediator may take an
    unassigned case (it becomes theirs). Two moves at once: the second finds the state
    changed under it and is refused (409 case_moved)."""
    case = await case_to_manage(db, p, case_id)
    case_states.check_move(case.status, body.to, body.reason)
    await case_states.check_documents(db, case.id, body.to)
    await apply_move(db, p, case, body.to, body.reason)
    await db.commit()
    await db.refresh(case)
    return case


async def case_to_manage(db: AsyncSession, p: Principal, case_id: str) -> Case:
    """The case, if ``p`` may change it: its mediator (or any mediator of the office while
    it has none) or an administrator."""
    ensure_staff(p, STAFF_WHO_MANAGE)
    case = await get_case(db, p, case_id)
    if p.role == "mediator" and case.mediator_id not in (None, p.user_id):
        raise Forbidden("Only the case's mediator or an administrator may change it.",
                        code="not_your_case")
    return case


async def apply_move(db: AsyncSession, p: Principal, case: Case, to: str, reason: str) -> None:
    """Write a checked move and its log entry (the caller commits)."""
    current = case.status
    now = utcnow()
    values: dict[str, Any] = {"status": to}
    if p.role == "mediator" and case.mediator_id is None:
        values["mediator_id"] = p.user_id
    for column in case_states.MILESTONES.get(to, ()):  # the first time only
        values[column] = func.coalesce(getattr(Case, column), now)
    moved = await db.execute(update(Case).where(Case.id == case.id, Case.status == current)
                             .values(**values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise Conflict("The case was moved by someone else; reload it.", code="case_moved")
    db.add(CaseEvent(case_id=case.id, actor_id=p.user_id, from_status=current, to_status=to,
                     reason=reason, at=now))


async def case_log(db: AsyncSession, p: Principal, case_id: str) -> list[tuple[CaseEvent, str]]:
    """The case's moves, oldest first, each with the display name of who made it."""
    case = await get_case(db, p, case_id)
    rows = await db.execute(
        select(CaseEvent, User.display_name).join(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    return [(e, name) for e, name in rows.all()]


async def list_cases(db: AsyncSession, p: Principal, q: str = "") -> list[Case]:
    ensure_staff(p, STAFF_WHO_READ)
    stmt = select(Case).where(Case.office_id == p.office_id).order_by(Case.created_at.desc())
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Case.number.like(like) | Case.summary.like(like))
    return list((await db.execute(stmt.limit(500))).scalars())


async def get_case(db: AsyncSession, p: Principal, case_id: str) -> Case:
    ensure_staff(p, STAFF_WHO_READ)
    case = await db.get(Case, case_id)
    # Another office's case answers exactly like a missing one: ids reveal nothing.
    if case is None or case.office_id != p.office_id:
        raise NotFound("No such case.", code="case_not_found")
    return case


OPENED_BY_HAND = "开启调解会议"
OPENING_MOVES = frozenset({"accepted", "scheduled"})
"""States from which opening a session by hand moves the case to 调解中."""
"""The reason logged for the moves a session opened by hand makes."""


async def create_session(db: AsyncSession, p: Principal, case_id: str,
                         body: SessionIn) -> MediationSession:
    """Open a session by hand. An accepted or scheduled case follows its life to 调解中
    along the moves ``case_states`` allows (受理 → 排期 → 调解中), each one logged. A case
    still in 申请 stays there: accepting it is intake's decision, which the applicant is
    told of (``signaling.intake``), not a side effect of opening a room. A closed case
    refuses (409 case_closed)."""
    ensure_staff(p, STAFF_WHO_MANAGE)
    case = await get_case(db, p, case_id)
    if case.status not in case_states.SCHEDULABLE:
        raise Conflict(f"A case in {case_states.LABELS.get(case.status, case.status)} is "
                       "closed: no session can be opened.", code="case_closed")
    s = MediationSession(case_id=case.id, title=body.title or case.number,
                         language=body.language, scheduled_at=body.scheduled_at,
                         created_by=p.user_id)
    db.add(s)
    await db.flush()
    steps = case_states.path_to(case.status, "in_mediation") \
        if case.status in OPENING_MOVES else []
    for step in steps:
        if p.role == "mediator" and case.mediator_id not in (None, p.user_id):
            break  # another mediator's case: the session is opened, the case stays put
        await apply_move(db, p, case, step, OPENED_BY_HAND)
        case.status = step
        if p.role == "mediator" and case.mediator_id is None:
            case.mediator_id = p.user_id
    await db.commit()
    return s


async def list_sessions(db: AsyncSession, p: Principal, case_id: str) -> list[MediationSession]:
    case = await get_case(db, p, case_id)
    stmt = select(MediationSession).where(MediationSession.case_id == case.id) \
        .order_by(MediationSession.created_at)
    return list((await db.execute(stmt)).scalars())


async def get_session(db: AsyncSession, p: Principal, session_id: str) -> MediationSession:
    ensure_staff(p, STAFF_WHO_READ)
    s = await db.get(MediationSession, session_id)
    if s is None:
        raise NotFound("No such session.", code="session_not_found")
    case = await db.get(Case, s.case_id)
    if case is None or case.office_id != p.office_id:
        raise NotFound("No such session.", code="session_not_found")
    return s


async def session_office(db: AsyncSession, session_id: str) -> str | None:
    row = (await db.execute(
        select(Case.office_id).join(MediationSession, MediationSession.case_id == Case.id)
        .where(MediationSession.id == session_id))).scalar_one_or_none()
    return row
