"""Return visits (回访) after an agreement, and the mediator's agenda.

When a case moves to 达成协议 a return visit falls due 30 days later (in the office's
time zone); the mediator may set another date. Recording it (回访记录: who visited, how,
whether the agreement was performed, notes) moves the case to 回访 where its life allows,
and an agreement found unperformed flags the case (``Case.unperformed``) in every list.

The agenda shows the caller's sessions of today and of the next seven days, the return
visits due by then (overdue ones too), and who said they cannot come, in the office's
time zone. A mediator sees their own cases (and those they created); administrators and
clerks see the office's.

When a return visit comes due, the case's mediator gets one text at the mobile number their
account holds (``ReturnVisitReminderLoop``, a ``signaling.periodic.Periodic`` on each node):
claimed before it is sent (``claim_once`` under the key (visit, due date)), so that it goes
out once across nodes and restarts, and again only if the visit is moved to another day.
A visit overdue by more than ``REMIND_LATE_DAYS`` when first seen (a node that was down, an
upgrade meeting old visits) is not texted: the agenda lists it as overdue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from aiohttp import web
from pydantic import StringConstraints
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import case_states
from signaling.accounts import Principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.cases import apply_move, case_to_manage, ensure_staff, get_case
from signaling.context import Services
from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.db.models import (
    Case,
    Invite,
    MediationSession,
    ReturnVisit,
    ReturnVisitReminder,
    User,
)
from signaling.errors import BadRequest, Conflict
from signaling.keys import SERVICES
from signaling.notify import Dispatcher, NotifyError, compose, mask_recipient
from signaling.periodic import Clock, Periodic, claim_once, finish
from signaling.schemas import In, Out
from signaling.settings import Settings

DEFAULT_DAYS = 30
AFTER_AGREEMENT = frozenset({"agreed", "judicial_confirm", "return_visit"})
"""States in which a case has an agreement to visit about."""
METHODS = ("phone", "visit", "online")
REMIND_LATE_DAYS = 7
"""A visit first seen due this many days late or less is still texted; older, it is not."""

log = logging.getLogger("tiaojie.return_visits")


def today(settings: Settings) -> date:
    from signaling.scheduling import office_zone

    return utcnow().astimezone(office_zone(settings)).date()


async def ensure_due(db: AsyncSession, settings: Settings, case_id: str, user_id: str) -> None:
    """A return visit due ``DEFAULT_DAYS`` from today, unless one is open (the caller
    commits). Called when a case moves to 达成协议."""
    open_one = (await db.execute(select(ReturnVisit.id).where(
        ReturnVisit.case_id == case_id, ReturnVisit.recorded_at.is_(None)))).first()
    if open_one is None:
        db.add(ReturnVisit(case_id=case_id, due_on=today(settings) + timedelta(days=DEFAULT_DAYS),
                           set_by=user_id, visitor="", method="", notes=""))


class DueIn(In):
    due_on: date


class VisitIn(In):
    visitor: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=120)]
    method: Literal["phone", "visit", "online"]
    performed: bool
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class ReturnVisitOut(Out):
    id: str
    case_id: str
    due_on: date
    recorded_at: datetime | None
    visitor: str
    method: str
    performed: bool | None
    notes: str


class ReturnVisitList(Out):
    items: list[ReturnVisitOut]
    unperformed: bool


async def set_due(services: Services, p: Principal, case_id: str, body: DueIn) -> ReturnVisitOut:
    async with services.db.session() as db:
        case = await case_to_manage(db, p, case_id)
        if case.status not in AFTER_AGREEMENT:
            raise Conflict("A return visit follows an agreement (达成协议).",
                           code="no_agreement")
        if body.due_on < today(services.settings) or \
                body.due_on > today(services.settings) + timedelta(days=366):
            raise BadRequest("The return visit is due between today and a year from now.",
                             code="due_invalid")
        visit = (await db.execute(select(ReturnVisit).where(
            ReturnVisit.case_id == case.id, ReturnVisit.recorded_at.is_(None)))).scalar()
        if visit is None:
            visit = ReturnVisit(case_id=case.id, set_by=p.user_id, visitor="", method="",
                                notes="", due_on=body.due_on)
            db.add(visit)
        visit.due_on = body.due_on
        visit.set_by = p.user_id
        await db.commit()
        return ReturnVisitOut.model_validate(visit)


async def record(services: Services, p: Principal, case_id: str, body: VisitIn) -> ReturnVisitOut:
    """Record the open return visit (or a further one) and move the case to 回访."""
    async with services.db.session() as db:
        case = await case_to_manage(db, p, case_id)
        if case.status not in AFTER_AGREEMENT:
            raise Conflict("A return visit follows an agreement (达成协议).",
                           code="no_agreement")
        visit = (await db.execute(select(ReturnVisit).where(
            ReturnVisit.case_id == case.id, ReturnVisit.recorded_at.is_(None)))).scalar()
        if visit is None:
            visit = ReturnVisit(case_id=case.id, set_by=p.user_id,
                                due_on=today(services.settings))
            db.add(visit)
        visit.recorded_at = utcnow()
        visit.recorded_by = p.user_id
        visit.visitor = body.visitor
        visit.method = body.method
        visit.performed = body.performed
        visit.notes = body.notes
        if "return_visit" in case_states.allowed_moves(case.status):
            await apply_move(db, p, case, "return_visit",
                             "协议已履行" if body.performed else "协议未履行")
        case.unperformed = not body.performed
        await db.commit()
        return ReturnVisitOut.model_validate(visit)


async def list_visits(services: Services, p: Principal, case_id: str) -> ReturnVisitList:
    async with services.db.session() as db:
        case = await get_case(db, p, case_id)
        rows = (await db.execute(select(ReturnVisit).where(ReturnVisit.case_id == case.id)
                                 .order_by(ReturnVisit.due_on))).scalars()
        return ReturnVisitList(items=[ReturnVisitOut.model_validate(v) for v in rows],
                         unperformed=case.unperformed)


# -- the agenda --------------------------------------------------------------------------

class Declined(Out):
    label: str
    reason: str
    at: datetime


class AgendaSession(Out):
    session_id: str
    case_id: str
    case_number: str
    case_status: str
    title: str
    scheduled_at: datetime
    local_time: str
    """``YYYY-MM-DD HH:MM`` in the office's time zone."""
    expected_minutes: int | None
    today: bool
    declined: list[Declined]


class AgendaVisit(Out):
    case_id: str
    case_number: str
    due_on: date
    overdue: bool
    unperformed: bool


class AgendaOut(Out):
    time_zone: str
    today: date
    sessions: list[AgendaSession]
    """Today's and the next six days', earliest first (``today`` marks today's)."""
    return_visits: list[AgendaVisit]
    """Open return visits due by the end of the week, overdue ones included."""


async def agenda(services: Services, p: Principal) -> AgendaOut:
    ensure_staff(p, ("mediator", "admin", "clerk"))
    from signaling.scheduling import office_zone

    zone = office_zone(services.settings)
    day = today(services.settings)
    start = datetime.combine(day, time(0), tzinfo=zone)
    tomorrow = start + timedelta(days=1)
    week_end = start + timedelta(days=7)
    mine = Case.office_id == p.office_id
    if p.role == "mediator":
        mine = mine & or_(Case.mediator_id == p.user_id, Case.created_by == p.user_id)
    async with services.db.session() as db:
        rows = (await db.execute(
            select(MediationSession, Case).join(Case, Case.id == MediationSession.case_id)
            .where(mine, MediationSession.status != "ended",
                   MediationSession.scheduled_at >= start,
                   MediationSession.scheduled_at < week_end)
            .order_by(MediationSession.scheduled_at))).all()
        ids = [s.id for s, _ in rows]
        declines: dict[str, list[Declined]] = {}
        if ids:
            for inv in (await db.execute(select(Invite).where(
                    Invite.session_id.in_(ids), Invite.declined_at.is_not(None)))).scalars():
                assert inv.declined_at is not None
                declines.setdefault(inv.session_id, []).append(
                    Declined(label=inv.label, reason=inv.decline_reason or "",
                             at=inv.declined_at))
        visits = (await db.execute(
            select(ReturnVisit, Case).join(Case, Case.id == ReturnVisit.case_id)
            .where(mine, ReturnVisit.recorded_at.is_(None),
                   ReturnVisit.due_on < day + timedelta(days=7))
            .order_by(ReturnVisit.due_on))).all()
    sessions = []
    for s, c in rows:
        assert s.scheduled_at is not None
        local = s.scheduled_at.astimezone(zone)
        sessions.append(AgendaSession(
            session_id=s.id, case_id=c.id, case_number=c.number, case_status=c.status,
            title=s.title, scheduled_at=s.scheduled_at, local_time=f"{local:%Y-%m-%d %H:%M}",
            expected_minutes=s.expected_minutes, today=s.scheduled_at < tomorrow,
            declined=declines.get(s.id, [])))
    return AgendaOut(time_zone=services.settings.office_time_zone, today=day,
                     sessions=sessions, return_visits=[
                         AgendaVisit(case_id=c.id, case_number=c.number, due_on=v.due_on,
                                     overdue=v.due_on < day, unperformed=c.unperformed)
                         for v, c in visits])


# -- the text to the mediator when a visit comes due ------------------------------------

@dataclass
class VisitReminderReport:
    sent: list[str] = field(default_factory=list)
    """Ids of the return visits whose mediator was texted in this pass."""
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Due, but nobody to text: no mediator, an account without a mobile number or disabled."""


async def send_due_visit_reminders(database: Database, notifier: Dispatcher,
                                   settings: Settings, now: datetime) -> VisitReminderReport:
    """One pass: text the mediator of every open return visit due today (in the office's
    time zone) or up to ``REMIND_LATE_DAYS`` late, once per visit and due date."""
    from signaling.scheduling import office_zone

    day = now.astimezone(office_zone(settings)).date()
    report = VisitReminderReport()
    async with database.session() as db:
        rows = (await db.execute(
            select(ReturnVisit, Case.number, User)
            .join(Case, Case.id == ReturnVisit.case_id)
            .outerjoin(User, User.id == Case.mediator_id)
            .where(ReturnVisit.recorded_at.is_(None), ReturnVisit.due_on <= day,
                   ReturnVisit.due_on >= day - timedelta(days=REMIND_LATE_DAYS),
                   Case.status.in_(AFTER_AGREEMENT))
            .order_by(ReturnVisit.due_on))).all()
    if rows and not notifier.reaches("sms"):
        return report  # no SMS sender here: nothing is claimed
    for visit, number, mediator in rows:
        if mediator is None or not mediator.active or not mediator.phone:
            report.skipped.append(visit.id)
            continue
        row_id = await claim_once(database, ReturnVisitReminder,
                                  {"return_visit_id": visit.id, "due_on": visit.due_on},
                                  sent_to=mask_recipient(mediator.phone))
        if row_id is None:
            continue
        message = compose("return_visit_due", mediator.phone, {
            "case_number": number, "date": visit.due_on.isoformat()}, reference=visit.id)
        try:
            await notifier.send(message)
        except NotifyError as exc:
            log.warning("return visit reminder not sent: %s (%s)", message.describe(),
                        type(exc).__name__)
            await finish(database, ReturnVisitReminder, row_id, type(exc).__name__)
            report.failed.append(visit.id)
            continue
        await finish(database, ReturnVisitReminder, row_id, "")
        report.sent.append(visit.id)
    return report


def ReturnVisitReminderLoop(services: Services, interval_s: float,
                            clock: Clock = utcnow) -> Periodic:
    """Runs ``send_due_visit_reminders`` every ``interval_s`` on this node."""

    async def work(now: datetime) -> None:
        if services.notifier is not None:
            await send_due_visit_reminders(services.db, services.notifier,
                                           services.settings, now)

    return Periodic("return_visit_reminders", work, interval_s, clock)


def add_routes(api: ApiRouter) -> None:
    from signaling.api.auth import require_principal

    async def due_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        body = await read_body(request, DueIn, 4096)
        return json_response(await set_due(request.app[SERVICES], p,
                                           request.match_info["case_id"], body))

    async def record_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        body = await read_body(request, VisitIn, 16384)
        return json_response(await record(request.app[SERVICES], p,
                                          request.match_info["case_id"], body), status=201)

    async def list_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        return json_response(await list_visits(request.app[SERVICES], p,
                                               request.match_info["case_id"]))

    async def agenda_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        return json_response(await agenda(request.app[SERVICES], p))

    managers = "the case's mediator (or any mediator while it has none) or an administrator"
    for r in (
        Route("PUT", "/api/v1/cases/{case_id}/return-visit", due_route,
              "Set the date the return visit (回访) is due", managers, DueIn, ReturnVisitOut,
              tag="cases"),
        Route("POST", "/api/v1/cases/{case_id}/return-visits", record_route,
              "Record a return visit (回访记录); the case moves to 回访", managers, VisitIn,
              ReturnVisitOut, 201, tag="cases"),
        Route("GET", "/api/v1/cases/{case_id}/return-visits", list_route,
              "The case's return visits", "staff of the case's office", None, ReturnVisitList,
              tag="cases"),
        Route("GET", "/api/v1/agenda", agenda_route,
              "Today's and this week's sessions and the return visits due, in the office's "
              "time zone", "the office's staff (a mediator sees their own cases)", None,
              AgendaOut, tag="sessions"),
    ):
        api.add(r)

