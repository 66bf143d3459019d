"""The expert directory: profiles, domains, weekly availability and who may edit what.

Experts belong to one office (their user account's): an office's directory is its own
list of people it has vetted. An administrator may share them across a city
(``Office.share_experts``): an office of the same city (``Office.city``, written alike)
that calls the city's experts (``Office.use_city_experts``) then sees and rings them too,
each labelled with their office's name. Editing a profile stays with its own office.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from experts.errors import ExpertNotFound, NotExpert
from experts.schemas import ExpertIn, ExpertOut, ExpertPatch, ExpertSelfPatch, Status
from experts.tables import ExpertProfile
from signaling.accounts import Principal
from signaling.db.models import Office, User
from signaling.errors import BadRequest, Conflict, Forbidden

CHINA_TIME = timezone(timedelta(hours=8))
"""Weekly availability is written in the offices' local time."""

DOMAINS: dict[str, tuple[str, str]] = {
    "property": ("物业", "Property management"),
    "medical": ("医疗", "Medical"),
    "psychological": ("心理", "Psychological"),
    "legal": ("法律", "Legal"),
    "sign_language": ("手语", "Sign language"),
    "dialect": ("方言翻译", "Dialect interpretation"),
    "foreign_language": ("外语翻译", "Foreign-language interpretation"),
    "construction": ("建筑工程", "Construction"),
    "labour": ("劳动", "Labour"),
    "family": ("婚姻家庭", "Marriage and family"),
    "traffic": ("交通事故", "Traffic accidents"),
    "consumer": ("消费", "Consumer rights"),
}
"""Known domains: code → (Chinese, English). Extend with ``register_domain``."""

READERS = ("mediator", "admin", "clerk")


def register_domain(code: str, zh: str, en: str) -> None:
    """Add a domain (a deployment's own speciality) before the app starts."""
    if not code.isascii() or not code.replace("_", "").isalnum() or not code[:1].isalpha():
        raise ValueError(f"domain code {code!r} must be lower-case ASCII letters, digits and _")
    DOMAINS[code.lower()] = (zh, en)


def mask_phone(phone: str) -> str:
    """138****5678: enough for a person to recognise their own number, no more."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) == 13 and digits[:2] == ["8", "6"]:  # +86 and a mobile number
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def available_at(availability: list[dict[str, Any]], at: datetime) -> bool:
    """Whether ``at`` falls in one of the weekly slots (an empty list means never)."""
    local = at.astimezone(CHINA_TIME)
    hhmm = local.strftime("%H:%M")
    return any(s.get("weekday") == local.weekday() and s.get("start", "") <= hhmm < s.get("end", "")
               for s in availability)


def _check_domains(domains: list[str]) -> list[str]:
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise BadRequest(f"Unknown domain(s): {', '.join(unknown)}.", code="unknown_domain")
    return list(dict.fromkeys(domains))


def to_out(p: ExpertProfile, status: Status, *, full_phone: bool,
           at: datetime | None = None) -> ExpertOut:
    return ExpertOut(
        id=p.id, user_id=p.user_id, display_name=p.display_name, domains=list(p.domains),
        languages=list(p.languages), region=p.region, organisation=p.organisation,
        phone=p.phone if full_phone else mask_phone(p.phone), bio=p.bio,
        availability=list(p.availability), active=p.active,
        rating=round(p.rating_sum / p.rating_count, 2) if p.rating_count else None,
        rating_count=p.rating_count, status=status,
        available_now=available_at(p.availability, at or datetime.now(CHINA_TIME)))


def sees_full_phone(principal: Principal, p: ExpertProfile) -> bool:
    """The expert, and an administrator of the expert's own office (not of an office the
    expert is lent to)."""
    return (principal.role == "admin" and principal.office_id == p.office_id) \
        or principal.user_id == p.user_id


async def lending_offices(db: AsyncSession, office_id: str) -> dict[str, str]:
    """The offices whose experts ``office_id`` may see and call, id → name: itself, and,
    when it calls the city's experts, every other office of the same (non-empty) city that
    shares its own. Read afresh on every check, so a switch turned off stops the next
    ring, answer or listing."""
    office = await db.get(Office, office_id, populate_existing=True)
    if office is None:
        return {}
    out = {office.id: office.name}
    if office.use_city_experts and office.city:
        rows = await db.execute(select(Office.id, Office.name).where(
            Office.city == office.city, Office.share_experts.is_(True),
            Office.id != office.id))
        out.update({i: n for i, n in rows.all()})
    return out


async def may_call(db: AsyncSession, office_id: str, expert: ExpertProfile) -> bool:
    """Whether staff of ``office_id`` may call ``expert`` (own office or lent to it)."""
    if expert.office_id == office_id:  # the common case costs no query
        return True
    return expert.office_id in await lending_offices(db, office_id)


def ensure_role(principal: Principal, roles: tuple[str, ...]) -> None:
    if principal.role not in roles:
        raise Forbidden("Your role may not do this.", code="role_not_allowed")


async def get_profile(db: AsyncSession, principal: Principal, expert_id: str) -> ExpertProfile:
    """A profile the caller may read: their office's, or their own."""
    p = await db.get(ExpertProfile, expert_id)
    if p is None or p.office_id != principal.office_id:
        raise ExpertNotFound()
    if principal.role not in READERS and p.user_id != principal.user_id:
        raise ExpertNotFound()
    return p


async def own_profile(db: AsyncSession, principal: Principal) -> ExpertProfile:
    if principal.role != "expert":
        raise NotExpert()
    p = (await db.execute(select(ExpertProfile).where(
        ExpertProfile.user_id == principal.user_id))).scalar_one_or_none()
    if p is None:
        raise NotExpert()
    return p


async def profile_for_user(db: AsyncSession, user_id: str) -> ExpertProfile | None:
    return (await db.execute(select(ExpertProfile).where(
        ExpertProfile.user_id == user_id))).scalar_one_or_none()


async def create_profile(db: AsyncSession, principal: Principal, body: ExpertIn) -> ExpertProfile:
    ensure_role(principal, ("admin",))
    user = await db.get(User, body.user_id)
    if user is None or user.office_id != principal.office_id:
        raise BadRequest("No such user in your office.", code="user_not_found")
    if user.role != "expert":
        raise BadRequest("Only an account whose role is expert can be listed.",
                         code="user_not_expert")
    p = ExpertProfile(user_id=user.id, office_id=user.office_id,
                      display_name=body.display_name or user.display_name,
                      domains=_check_domains(body.domains))
    _apply(p, body)
    db.add(p)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict("This user already has a profile.", code="profile_exists") from None
    return p


def _apply(p: ExpertProfile, body: ExpertSelfPatch | ExpertPatch) -> None:
    data = body.model_dump(exclude_unset=True, exclude_none=True)
    data.pop("user_id", None)
    if "domains" in data:
        data["domains"] = _check_domains(data["domains"])
    for k, v in data.items():
        setattr(p, k, v)


async def update_profile(db: AsyncSession, principal: Principal, expert_id: str,
                         body: ExpertPatch) -> ExpertProfile:
    ensure_role(principal, ("admin",))
    p = await get_profile(db, principal, expert_id)
    _apply(p, body)
    await db.commit()
    return p


async def update_own(db: AsyncSession, principal: Principal,
                     body: ExpertSelfPatch) -> ExpertProfile:
    p = await own_profile(db, principal)
    _apply(p, body)
    await db.commit()
    return p


async def search(db: AsyncSession, office_id: str, *, domain: str | None = None,
                 language: str | None = None, region: str | None = None,
                 active_only: bool = True, city: bool = False) -> list[ExpertProfile]:
    """Profiles of an office matching a domain, language and region (JSON lists are
    filtered here rather than in SQL so that SQLite and PostgreSQL agree). ``city``: also
    the active experts lent to this office (``lending_offices``), after its own."""
    own = ExpertProfile.office_id == office_id
    if active_only:
        own = own & ExpertProfile.active.is_(True)
    where = own
    if city:
        others = [i for i in await lending_offices(db, office_id) if i != office_id]
        if others:
            where = own | (ExpertProfile.office_id.in_(others)
                           & ExpertProfile.active.is_(True))
    stmt = select(ExpertProfile).where(where)
    rows = list((await db.execute(stmt.order_by(ExpertProfile.created_at))).scalars())
    rows.sort(key=lambda p: p.office_id != office_id)  # stable: own office first
    out = []
    for p in rows:
        if domain and domain not in p.domains:
            continue
        if language and language not in p.languages:
            continue
        if region and region not in p.region:
            continue
        out.append(p)
    return out
