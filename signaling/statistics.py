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
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import Principal
from signaling.db.models import Case, MediationSession, Office, User
from signaling.errors import BadRequest, Forbidden, NotFound

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

READERS = ("head", "admin")
"""Roles that read the statistics: an office head their own office, an administrator all."""

AGREEMENT_KINDS = ("agreement", "oral_register")
"""Sealed documents that are an agreement: a written one, or the register of an oral one."""

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
        raise Forbidden(
            "Only office heads and administrators read the statistics.", code="role_not_allowed"
        )
    if p.role == "head":
        if office_id not in (None, "", p.office_id):
            raise Forbidden("An office head reads their own office only.", code="forbidden")
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
    return Filters(
        office_id=office_id,
        since=since,
        until=until,
        mediator_id=ident("mediator_id"),
        time_zone=time_zone,
    )


def _bounds(f: Filters) -> tuple[datetime | None, datetime | None]:
    tz = ZoneInfo(f.time_zone)
    lo = datetime.combine(f.since, time(), tz).astimezone(UTC) if f.since else None
    hi = (
        datetime.combine(f.until + timedelta(days=1), time(), tz).astimezone(UTC)
        if f.until
        else None
    )
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


def _filtered(f: Filters) -> bool:
    return bool(f.office_id or f.since or f.until or f.mediator_id)


async def compute(db: AsyncSession, f: Filters) -> Statistics:
    """Every figure, in five statements: one pass over the cases grouped by (state, type,
    month) with the milestone counts (``cases.decided_at`` …, kept by every move), the
    median, and the sessions, documents and expert minutes of the selected cases."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        month = func.date_trunc("month", func.timezone(f.time_zone, Case.created_at))
    else:
        month = func.strftime("%Y-%m", Case.created_at, f"{_offset_hours(f.time_zone):+d} hours")
    grouped = case_filter(
        select(
            Case.status,
            Case.dispute_type,
            month.label("m"),
            func.count(),
            func.count(Case.decided_at),
            func.count(Case.agreed_at),
            func.count(Case.judicial_at),
        ),
        f,
    ).group_by(Case.status, Case.dispute_type, "m")
    by_state: dict[str, int] = {}
    by_type: dict[str, int] = {}
    by_month: dict[str, int] = {}
    decided = succeeded = judicial = 0
    for status, kind, m, n, n_decided, n_agreed, n_judicial in (await db.execute(grouped)).all():
        key = m.strftime("%Y-%m") if isinstance(m, datetime) else str(m)
        by_state[status] = by_state.get(status, 0) + n
        by_type[kind] = by_type.get(kind, 0) + n
        by_month[key] = by_month.get(key, 0) + n
        decided += n_decided
        succeeded += n_agreed
        judicial += n_judicial

    median: float | None
    agreed = (
        case_filter(select(Case.agreed_at, Case.created_at), f)
        .where(Case.agreed_at.is_not(None))
        .subquery()
    )
    if dialect == "postgresql":
        days = func.extract("epoch", agreed.c.agreed_at - agreed.c.created_at) / 86400.0
        value = (await db.execute(select(func.percentile_cont(0.5).within_group(days)))).scalar()
        median = None if value is None else float(value)
    else:
        days = func.julianday(agreed.c.agreed_at) - func.julianday(agreed.c.created_at)
        values = [float(v) for v in (await db.execute(select(days))).scalars()]
        median = pystats.median(values) if values else None

    # Every office and period: no need to join the cases at all.
    ids = case_filter(select(Case.id), f).scalar_subquery() if _filtered(f) else None
    online_q = (
        select(func.count())
        .select_from(MediationSession)
        .where(MediationSession.started_at.is_not(None))
    )
    minutes_q = (
        select(expert_calls.c.domain, func.coalesce(func.sum(expert_visits.c.minutes), 0))
        .select_from(expert_visits.join(expert_calls, expert_calls.c.id == expert_visits.c.call_id))
        .group_by(expert_calls.c.domain)
        .order_by(expert_calls.c.domain)
    )
    sealed_q = (
        select(func.count()).select_from(documents).where(documents.c.kind.in_(AGREEMENT_KINDS))
    )
    if ids is not None:
        online_q = online_q.where(MediationSession.case_id.in_(ids))
        minutes_q = minutes_q.where(expert_visits.c.case_id.in_(ids))
        sealed_q = sealed_q.where(documents.c.case_id.in_(ids))
    minutes = [(str(k), int(n)) for k, n in (await db.execute(minutes_q)).all()]
    return Statistics(
        cases=sum(by_state.values()),
        by_state=sorted(by_state.items()),
        by_type=sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])),
        by_month=sorted(by_month.items()),
        decided=decided,
        succeeded=succeeded,
        success_rate=round(succeeded / decided, 4) if decided else None,
        median_days_to_agreement=None if median is None else round(median, 2),
        sessions_online=int((await db.execute(online_q)).scalar() or 0),
        expert_minutes=minutes,
        agreements_sealed=int((await db.execute(sealed_q)).scalar() or 0),
        judicial_confirmations=judicial,
    )


async def choices(
    db: AsyncSession, p: Principal, office_id: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(offices, mediators) the filters offer ``p``: (id, name) pairs. A head sees only
    their office and its mediators; an administrator every office."""
    offices_q = select(Office.id, Office.name).order_by(Office.name)
    if p.role != "admin":
        offices_q = offices_q.where(Office.id == p.office_id)
    offices = [(str(i), str(n)) for i, n in (await db.execute(offices_q)).all()]
    med_q = (
        select(User.id, User.display_name)
        .where(User.role == "mediator")
        .order_by(User.display_name)
    )
    if office_id:
        med_q = med_q.where(User.office_id == office_id)
    mediators = [(str(i), str(n)) for i, n in (await db.execute(med_q.limit(1000))).all()]
    return offices, mediators


async def check_office(db: AsyncSession, office_id: str | None) -> None:
    if office_id and await db.get(Office, office_id) is None:
        raise NotFound("No such office.", code="office_not_found")
