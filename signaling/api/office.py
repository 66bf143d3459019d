"""HTTP handlers of the office around the rooms: the statistics dashboard, the case register
export and the administrator's console (staff accounts, retention periods in force)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import offices, register, staff, statistics
from signaling.accounts import Principal
from signaling.api.auth import require_principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.db.models import Office
from signaling.keys import SERVICES
from signaling.schemas import (
    ChoiceOut,
    CountOut,
    OfficeIn,
    OfficeList,
    OfficeOut,
    OfficePatch,
    PasswordIn,
    RetentionOut,
    StaffIn,
    StaffList,
    StaffOut,
    StaffPatch,
    StatisticsOut,
)
from signaling.staff import ensure_admin

FILTERS = (
    ("since", "first application date, YYYY-MM-DD (office time zone)"),
    ("until", "last application date, YYYY-MM-DD (included)"),
    ("mediator_id", "only this mediator's cases"),
    ("office_id", "administrators: one office (default every office)"),
)


def _limit(request: web.Request) -> int:
    return request.app[SERVICES].settings.max_message_bytes


def _counts(pairs: list[tuple[str, int]]) -> list[CountOut]:
    return [CountOut(key=k, count=n) for k, n in pairs]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


@asynccontextmanager
async def _filtered(
    request: web.Request, scope_for: Callable[[Principal, str | None], str | None]
) -> AsyncIterator[tuple[Principal, statistics.Filters, AsyncSession]]:
    """The prologue of the filtered views: the caller, the office its role may read
    (``scope_for`` refuses or narrows), the checked filters, and a database session in
    which that office is known to exist."""
    p = await require_principal(request)
    services = request.app[SERVICES]
    query = dict(request.query)
    office = scope_for(p, statistics.checked_id(query.get("office_id", "")))
    f = statistics.parse_filters(query, services.settings.office_time_zone, office)
    async with services.db.session() as db:
        await statistics.check_office(db, f.office_id)
        yield p, f, db


async def _admin(request: web.Request) -> Principal:
    """The caller, who must be an administrator."""
    p = await require_principal(request)
    ensure_admin(p)
    return p


async def get_statistics(request: web.Request) -> web.Response:
    async with _filtered(request, statistics.scope_for) as (p, f, db):
        s = await statistics.compute(db, f)
        offices, mediators = await statistics.choices(db, p, f.office_id)
    return json_response(
        StatisticsOut(
            office_id=f.office_id,
            since=_iso(f.since),
            until=_iso(f.until),
            mediator_id=f.mediator_id,
            cases=s.cases,
            by_state=_counts(s.by_state),
            by_type=_counts(s.by_type),
            by_month=_counts(s.by_month),
            decided=s.decided,
            succeeded=s.succeeded,
            success_rate=s.success_rate,
            median_days_to_agreement=s.median_days_to_agreement,
            sessions_online=s.sessions_online,
            expert_minutes=_counts(s.expert_minutes),
            agreements_sealed=s.agreements_sealed,
            judicial_confirmations=s.judicial_confirmations,
            offices=[ChoiceOut(id=i, name=n) for i, n in offices],
            mediators=[ChoiceOut(id=i, name=n) for i, n in mediators],
        )
    )


async def _register_rows(request: web.Request) -> list[tuple[str | int, ...]]:
    async with _filtered(request, register.scope_for) as (p, f, db):
        return await register.rows(db, p, f)


def _attachment(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def register_csv(request: web.Request) -> web.Response:
    data = await _register_rows(request)
    return _attachment(register.to_csv(data), "text/csv", "register.csv")


async def register_xlsx(request: web.Request) -> web.Response:
    data = await _register_rows(request)
    return _attachment(
        register.to_xlsx(data),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "register.xlsx",
    )


async def list_staff(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        users = await staff.list_staff(db, p)
    return json_response(StaffList(items=[StaffOut.model_validate(u) for u in users]))


async def create_staff(request: web.Request) -> web.Response:
    p = await _admin(request)
    body = await read_body(request, StaffIn, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        user = await staff.add_staff(db, p, body)
    return json_response(StaffOut.model_validate(user), status=201)


async def change_staff(request: web.Request) -> web.Response:
    p = await _admin(request)
    body = await read_body(request, StaffPatch, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        user = await staff.change_staff(db, p, request.match_info["user_id"], body)
    return json_response(StaffOut.model_validate(user))


async def reset_password(request: web.Request) -> web.Response:
    p = await _admin(request)
    body = await read_body(request, PasswordIn, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        user = await staff.reset_password(db, p, request.match_info["user_id"], body.password)
    return json_response(StaffOut.model_validate(user))


async def retention(request: web.Request) -> web.Response:
    await _admin(request)
    s = request.app[SERVICES].settings
    return json_response(
        RetentionOut(
            chat_days=s.retention_days_chat,
            transcripts_days=s.retention_days_transcripts,
            evidence_days=s.retention_days_evidence,
            audio_days=s.retention_days_audio,
            applications_days=s.retention_days_applications,
            party_copy_days=s.party_copy_days,
        )
    )


def _office_out(request: web.Request, office: Office) -> OfficeOut:
    out = OfficeOut.model_validate(office)
    out.time_zone = request.app[SERVICES].settings.office_time_zone
    return out


async def list_offices(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        items = await offices.list_offices(db, p)
        return json_response(OfficeList(items=[_office_out(request, o) for o in items]))


async def create_office(request: web.Request) -> web.Response:
    p = await require_principal(request)
    offices.ensure_admin(p)
    body = await read_body(request, OfficeIn, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        office = await offices.create_office(db, p, body)
        return json_response(_office_out(request, office), status=201)


async def change_office(request: web.Request) -> web.Response:
    p = await require_principal(request)
    offices.ensure_admin(p)
    body = await read_body(request, OfficePatch, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        office = await offices.change_office(db, p, request.match_info["office_id"], body)
        return json_response(_office_out(request, office))


async def get_own_office(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        office = await offices.own_office(db, p)
        return json_response(_office_out(request, office))


async def change_own_office(request: web.Request) -> web.Response:
    p = await require_principal(request)
    offices.ensure_editor(p)
    body = await read_body(request, OfficePatch, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        office = await offices.change_office(db, p, None, body)
        return json_response(_office_out(request, office))


def add_routes(api: ApiRouter) -> None:
    v1 = "/api/v1"
    admin = "an administrator, for their own office's accounts"
    for r in (
        Route(
            "GET",
            f"{v1}/statistics",
            get_statistics,
            "The statistics dashboard: cases by state, type and month, success rate, median "
            "days to agreement, sessions online, expert minutes, agreements, 司法确认",
            "an office head (own office) or an administrator (any office, or all)",
            None,
            StatisticsOut,
            tag="office",
            query=FILTERS,
        ),
        Route(
            "GET",
            f"{v1}/register.csv",
            register_csv,
            "The case register (调解案件登记台账) as CSV",
            "a clerk or office head (own office; parties masked for the head) or an "
            "administrator (any office; parties masked)",
            None,
            None,
            tag="office",
            query=FILTERS,
            content_type="text/csv",
        ),
        Route(
            "GET",
            f"{v1}/register.xlsx",
            register_xlsx,
            "The case register (调解案件登记台账) as XLSX",
            "as register.csv",
            None,
            None,
            tag="office",
            query=FILTERS,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        Route(
            "GET",
            f"{v1}/staff",
            list_staff,
            "The office's staff accounts",
            admin,
            None,
            StaffList,
            tag="office",
        ),
        Route(
            "POST",
            f"{v1}/staff",
            create_staff,
            "Create a staff account",
            admin,
            StaffIn,
            StaffOut,
            201,
            tag="office",
        ),
        Route(
            "PATCH",
            f"{v1}/staff/{{user_id}}",
            change_staff,
            "Rename, change the role, disable or enable an account (ends its logins)",
            admin,
            StaffPatch,
            StaffOut,
            tag="office",
        ),
        Route(
            "POST",
            f"{v1}/staff/{{user_id}}/password",
            reset_password,
            "Reset an account's password (ends its logins)",
            admin,
            PasswordIn,
            StaffOut,
            tag="office",
        ),
        Route(
            "GET",
            f"{v1}/offices",
            list_offices,
            "Every office, with its city, address, phone and expert-sharing switches",
            "an administrator",
            None,
            OfficeList,
            tag="office",
        ),
        Route(
            "POST",
            f"{v1}/offices",
            create_office,
            "Create an office (unique name)",
            "an administrator",
            OfficeIn,
            OfficeOut,
            201,
            tag="office",
        ),
        Route(
            "PATCH",
            f"{v1}/offices/{{office_id}}",
            change_office,
            "Change an office: name, city, address, phone, sharing experts across the city",
            "an administrator",
            OfficePatch,
            OfficeOut,
            tag="office",
        ),
        Route(
            "GET",
            f"{v1}/office",
            get_own_office,
            "The caller's own office",
            "any logged-in staff member, their own office",
            None,
            OfficeOut,
            tag="office",
        ),
        Route(
            "PATCH",
            f"{v1}/office",
            change_own_office,
            "Change the caller's own office: an office head the address and phone only, an "
            "administrator every field",
            "an office head or an administrator, their own office",
            OfficePatch,
            OfficeOut,
            tag="office",
        ),
        Route(
            "GET",
            f"{v1}/retention",
            retention,
            "The retention periods in force (settings; read-only)",
            "an administrator",
            None,
            RetentionOut,
            tag="office",
        ),
    ):
        api.add(r)
