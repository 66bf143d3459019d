"""The office's statistics (统计): cases by state, by dispute type and by month, the success
rate, the median days from application to agreement, sessions held online, expert minutes
by domain, agreements sealed and 司法确认 applied for.

Every figure is one SQL aggregate over the cases the filters select (an office, a period of
application dates, a mediator), so that the dashboard stays fast on 100,000 cases
(``benchmarks/dashboard.py``). The documents and expert tables belong to ``agreements``
and ``experts``, which the core must not import (pyproject's import contracts): they are
read by table name, as ``signaling.case_states`` reads sealed documents.

Who reads them: an office head (负责人) their own office, an administrator any office or all
of them. Mediators, clerks, experts and parties are refused.
"""

from __future__ import annotations

import statistics as pystats
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, Unpack
from zoneinfo import ZoneInfo

from sqlalchemy import Select, column, distinct, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import Principal
from signaling.db.models import Case, CaseEvent, MediationSession, Office, User
from signaling.errors import BadRequest, Forbidden, NotFound

S = TypeVar("S", bound=Select[Unpack[tuple[Any, ...]]])

READERS = ("head", "admin")
"""Roles that read the statistics: an office head their own office, an administrator all."""

AGREEMENT_KINDS = ("agreement", "oral_register")
"""Sealed documents that are an agreement: a written one, or the register of an oral one."""
SUCCESS = "agreed"
DECIDED = ("agreed", "not_agreed", "terminated")
"""A case's mediation is decided once it reached one of these (success rate's base)."""

documents = table("agreement_documents", column("case_id"), column("kind"))
expert_visits = table("expert_visits", column("case_id"), column("call_id"), column("minutes"))
expert_calls = table("expert_calls", column("id"), column("domain"))


@dataclass(frozen=True)
class Filters:
    """Which cases count: of an office (None: every office), applied for within
    [since, until] (dates in the office's time zone, both included), of a mediator."""

    office_id: str | None = None
    since: date | None = None
    until: date | None = None
    mediator_id: str | None = None
    time_zone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Statistics:
    cases: int
    by_state: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    decided: int
    succeeded: int
    success_rate: float | None
    median_days_to_agreement: float | None
    sessions_online: int
    expert_minutes: list[tuple[str, int]]
    agreements_sealed: int
    judicial_confirmations: int


def scope_for(p: Principal, office_id: str | None) -> str | None:
    """The office whose statistics ``p`` may read: a head always their own (asking for
    another is refused), an administrator the one asked for, or every office (None)."""
    if p.role not in READERS:
        raise Forbidden("Only office heads and administrators read the statistics.",
                        code="role_not_allowed")
    if p.role == "head":
        if office_id not in (None, "", p.office_id):
            raise Forbidden("An office head reads their own office only.",
                            code="forbidden")
        return p.office_id
    return office_id or None


def checked_id(raw: str, name: str = "office_id") -> str | None:
    if raw and (len(raw) > 32 or not raw.isascii() or not raw.isalnum()):
        raise BadRequest(f"{name} is not an id.", code="bad_id")
    return raw or None


def parse_filters(query: dict[str, str], time_zone: str, office_id: str | None) -> Filters:
    """Filters from a query string, checked (dates as YYYY-MM-DD, ids as hex); the office
    is the one the caller's scope decided (``scope_for``)."""

    def day(name: str) -> date | None:
        raw = query.get(name, "")
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise BadRequest(f"{name} must be a date (YYYY-MM-DD).", code="bad_date") from None

    def ident(name: str) -> str | None:
        return checked_id(query.get(name, ""), name)

    since, until = day("since"), day("until")
    if since and until and since > until:
        raise BadRequest("since is after until.", code="bad_period")
    return Filters(office_id=office_id, since=since, until=until,
                   mediator_id=ident("mediator_id"), time_zone=time_zone)


def _bounds(f: Filters) -> tuple[datetime | None, datetime | None]:
    tz = ZoneInfo(f.time_zone)
    lo = datetime.combine(f.since, time(), tz).astimezone(UTC) if f.since else None
    hi = datetime.combine(f.until + timedelta(days=1), time(), tz).astimezone(UTC) \
        if f.until else None
    return lo, hi


def case_filter(stmt: S, f: Filters) -> S:
    """``stmt`` (which selects from cases) narrowed to the cases the filters select."""
    lo, hi = _bounds(f)
    if f.office_id:
        stmt = stmt.where(Case.office_id == f.office_id)
    if lo is not None:
        stmt = stmt.where(Case.created_at >= lo)
    if hi is not None:
        stmt = stmt.where(Case.created_at < hi)
    if f.mediator_id:
        stmt = stmt.where(Case.mediator_id == f.mediator_id)
    return stmt


def _offset_hours(tz_name: str) -> int:
    """The zone's UTC offset now, in whole hours (China has one, all year)."""
    off = datetime.now(ZoneInfo(tz_name)).utcoffset() or timedelta()
    return int(off.total_seconds() // 3600)


async def compute(db: AsyncSession, f: Filters) -> Statistics:
    dialect = db.get_bind().dialect.name
    ids = case_filter(select(Case.id), f).scalar_subquery()

    async def pairs(stmt: Select[Unpack[tuple[Any, ...]]]) -> list[tuple[str, int]]:
        return [(str(k), int(n)) for k, n in (await db.execute(stmt)).all()]

    by_state = await pairs(case_filter(select(Case.status, func.count()), f)
                           .group_by(Case.status).order_by(Case.status))
    by_type = await pairs(case_filter(select(Case.dispute_type, func.count()), f)
                          .group_by(Case.dispute_type).order_by(func.count().desc(),
                                                                Case.dispute_type))
    hours = _offset_hours(f.time_zone)
    if dialect == "postgresql":
        month = func.to_char(func.timezone(f.time_zone, Case.created_at), "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", Case.created_at, f"{hours:+d} hours")
    by_month = await pairs(case_filter(select(month.label("m"), func.count()), f)
                           .group_by("m").order_by("m"))

    reached = (select(CaseEvent.to_status, func.count(distinct(CaseEvent.case_id)))
               .where(CaseEvent.case_id.in_(ids),
                      CaseEvent.to_status.in_((*DECIDED, "judicial_confirm")))
               .group_by(CaseEvent.to_status))
    counts = dict(await pairs(reached))
    decided_q = select(func.count(distinct(CaseEvent.case_id))).where(
        CaseEvent.case_id.in_(ids), CaseEvent.to_status.in_(DECIDED))
    decided = int((await db.execute(decided_q)).scalar() or 0)
    succeeded = counts.get(SUCCESS, 0)

    first_agreed = (select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
                    .where(CaseEvent.case_id.in_(ids), CaseEvent.to_status == SUCCESS)
                    .group_by(CaseEvent.case_id).subquery())
    median: float | None
    if dialect == "postgresql":
        days = func.extract("epoch", first_agreed.c.at - Case.created_at) / 86400.0
        median_q = select(func.percentile_cont(0.5).within_group(days)).select_from(
            first_agreed.join(Case, Case.id == first_agreed.c.case_id))
        value = (await db.execute(median_q)).scalar()
        median = None if value is None else float(value)
    else:
        days = func.julianday(first_agreed.c.at) - func.julianday(Case.created_at)
        values = [float(v) for v in (await db.execute(select(days).select_from(
            first_agreed.join(Case, Case.id == first_agreed.c.case_id)))).scalars()]
        median = pystats.median(values) if values else None

    online_q = select(func.count()).select_from(MediationSession).where(
        MediationSession.case_id.in_(ids), MediationSession.started_at.is_not(None))
    minutes_q = (select(expert_calls.c.domain, func.coalesce(func.sum(expert_visits.c.minutes), 0))
                 .select_from(expert_visits.join(expert_calls,
                                                 expert_calls.c.id == expert_visits.c.call_id))
                 .where(expert_visits.c.case_id.in_(ids))
                 .group_by(expert_calls.c.domain).order_by(expert_calls.c.domain))
    sealed_q = select(func.count()).select_from(documents).where(
        documents.c.case_id.in_(ids), documents.c.kind.in_(AGREEMENT_KINDS))
    total = sum(n for _, n in by_state)
    return Statistics(
        cases=total, by_state=by_state, by_type=by_type, by_month=by_month,
        decided=decided, succeeded=succeeded,
        success_rate=round(succeeded / decided, 4) if decided else None,
        median_days_to_agreement=None if median is None else round(median, 2),
        sessions_online=int((await db.execute(online_q)).scalar() or 0),
        expert_minutes=await pairs(minutes_q),
        agreements_sealed=int((await db.execute(sealed_q)).scalar() or 0),
        judicial_confirmations=counts.get("judicial_confirm", 0))


async def choices(db: AsyncSession, p: Principal,
                  office_id: str | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(offices, mediators) the filters offer ``p``: (id, name) pairs. A head sees only
    their office and its mediators; an administrator every office."""
    offices_q = select(Office.id, Office.name).order_by(Office.name)
    if p.role != "admin":
        offices_q = offices_q.where(Office.id == p.office_id)
    offices = [(str(i), str(n)) for i, n in (await db.execute(offices_q)).all()]
    med_q = select(User.id, User.display_name).where(User.role == "mediator") \
        .order_by(User.display_name)
    if office_id:
        med_q = med_q.where(User.office_id == office_id)
    mediators = [(str(i), str(n)) for i, n in (await db.execute(med_q.limit(1000))).all()]
    return offices, mediators


async def check_office(db: AsyncSession, office_id: str | None) -> None:
    if office_id and await db.get(Office, office_id) is None:
        raise NotFound("No such office.", code="office_not_found")
