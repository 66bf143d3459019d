"""HTTP routes and room events of the expert service: load, check who asks, call the
domain code, respond. Declared by the feature (``experts/feature.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web
from sqlalchemy import select, update

from experts import directory, ledger, runtime
from experts.errors import CallNotFound
from experts.schemas import (
    CallIn,
    CallList,
    CallOut,
    CallRef,
    CsvText,
    DomainList,
    DomainOut,
    ExpertIn,
    ExpertList,
    ExpertOut,
    ExpertPatch,
    ExpertSelfPatch,
    LedgerOut,
    RatingIn,
    RingOut,
    VisitOut,
)
from experts.tables import ExpertCall, ExpertProfile, ExpertRing
from signaling.accounts import Principal
from signaling.api.auth import require_principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.cases import get_session
from signaling.context import Services
from signaling.db.models import Office
from signaling.errors import BadRequest, Conflict, Forbidden
from signaling.features import SocketEvent
from signaling.keys import SERVICES


def _limit(request: web.Request) -> int:
    return request.app[SERVICES].settings.max_message_bytes


async def _expert_out(services: Services, principal: Principal,
                      profiles: list[ExpertProfile]) -> list[ExpertOut]:
    status = await runtime.switchboard(services).status_of([p.id for p in profiles])
    async with services.db.session() as db:
        names = {i: n for i, n in (await db.execute(select(Office.id, Office.name).where(
            Office.id.in_({p.office_id for p in profiles})))).all()}
    out = []
    for p in profiles:
        x = directory.to_out(p, status[p.id],  # type: ignore[arg-type]
                             full_phone=directory.sees_full_phone(principal, p))
        x.office_id, x.office_name = p.office_id, names.get(p.office_id, "")
        x.lent = p.office_id != principal.office_id
        out.append(x)
    return out


# -- the directory ---------------------------------------------------------------
async def list_domains(request: web.Request) -> web.Response:
    await require_principal(request)
    return json_response(DomainList(items=[DomainOut(code=k, zh=v[0], en=v[1])
                                           for k, v in directory.DOMAINS.items()]))


async def list_experts(request: web.Request) -> web.Response:
    p = await require_principal(request)
    directory.ensure_role(p, directory.READERS)
    q = {k: request.query.get(k, "")[:200] or None for k in ("domain", "language", "region",
                                                            "status")}
    services = request.app[SERVICES]
    async with services.db.session() as db:
        found = await directory.search(db, p.office_id, domain=q["domain"],
                                       language=q["language"], region=q["region"],
                                       active_only=p.role != "admin", city=True)
    items = await _expert_out(services, p, found)
    if q["status"]:
        items = [x for x in items if x.status == q["status"]]
    return json_response(ExpertList(items=items))


async def create_expert(request: web.Request) -> web.Response:
    p = await require_principal(request)
    directory.ensure_role(p, ("admin",))
    body = await read_body(request, ExpertIn, _limit(request))
    services = request.app[SERVICES]
    async with services.db.session() as db:
        profile = await directory.create_profile(db, p, body)
    return json_response((await _expert_out(services, p, [profile]))[0], status=201)


async def get_expert(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        profile = await directory.get_profile(db, p, request.match_info["expert_id"])
    return json_response((await _expert_out(services, p, [profile]))[0])


async def update_expert(request: web.Request) -> web.Response:
    p = await require_principal(request)
    directory.ensure_role(p, ("admin",))
    body = await read_body(request, ExpertPatch, _limit(request))
    services = request.app[SERVICES]
    async with services.db.session() as db:
        profile = await directory.update_profile(db, p, request.match_info["expert_id"], body)
    return json_response((await _expert_out(services, p, [profile]))[0])


async def get_own_profile(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        profile = await directory.own_profile(db, p)
    return json_response((await _expert_out(services, p, [profile]))[0])


async def update_own_profile(request: web.Request) -> web.Response:
    p = await require_principal(request)
    body = await read_body(request, ExpertSelfPatch, _limit(request))
    services = request.app[SERVICES]
    async with services.db.session() as db:
        profile = await directory.update_own(db, p, body)
    return json_response((await _expert_out(services, p, [profile]))[0])


# -- the ledger ------------------------------------------------------------------
def _when(raw: str, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=directory.CHINA_TIME)
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD) or an ISO time.",
                         code="invalid_query") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _period(request: web.Request) -> tuple[datetime | None, datetime | None]:
    return (_when(request.query.get("from", "")[:40], "from"),
            _when(request.query.get("to", "")[:40], "to"))


async def _ledger_expert(request: web.Request) -> tuple[Principal, ExpertProfile]:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        profile = await directory.get_profile(db, p, request.match_info["expert_id"])
    # The time bank is the expert's and the office administrator's business.
    if p.role != "admin" and p.user_id != profile.user_id:
        raise Forbidden("Only administrators and the expert read the ledger.",
                        code="role_not_allowed")
    return p, profile


async def expert_ledger(request: web.Request) -> web.Response:
    p, profile = await _ledger_expert(request)
    since, until = _period(request)
    async with request.app[SERVICES].db.session() as db:
        rows = await ledger.visits(db, p.office_id, expert_id=profile.id, since=since,
                                   until=until)
    return json_response(LedgerOut(expert_id=profile.id,
                                   items=[VisitOut.model_validate(r) for r in rows],
                                   total_minutes=sum(r.minutes for r in rows)))


def _csv(text: str, filename: str) -> web.Response:
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


async def expert_ledger_csv(request: web.Request) -> web.Response:
    p, profile = await _ledger_expert(request)
    since, until = _period(request)
    async with request.app[SERVICES].db.session() as db:
        rows = await ledger.visits(db, p.office_id, expert_id=profile.id, since=since,
                                   until=until)
        text = await ledger.to_csv(db, rows)
    return _csv(text, f"expert-{profile.id}-ledger.csv")


async def office_ledger_csv(request: web.Request) -> web.Response:
    p = await require_principal(request)
    directory.ensure_role(p, ("admin",))
    since, until = _period(request)
    async with request.app[SERVICES].db.session() as db:
        rows = await ledger.visits(db, p.office_id, since=since, until=until)
        text = await ledger.to_csv(db, rows)
    return _csv(text, "expert-ledger.csv")


# -- calls -----------------------------------------------------------------------
async def _call_out(services: Services, c: ExpertCall) -> CallOut:
    async with services.db.session() as db:
        rings = list((await db.execute(select(ExpertRing).where(
            ExpertRing.call_id == c.id).order_by(ExpertRing.id))).scalars())
    out = CallOut.model_validate(c)
    out.rings = [RingOut.model_validate(r) for r in rings]
    return out


async def _office_call(request: web.Request) -> tuple[Principal, ExpertCall]:
    p = await require_principal(request)
    directory.ensure_role(p, directory.READERS)
    async with request.app[SERVICES].db.session() as db:
        c = await db.get(ExpertCall, request.match_info["call_id"])
    if c is None or c.office_id != p.office_id:
        raise CallNotFound()
    return p, c


async def session_calls(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        s = await get_session(db, p, request.match_info["session_id"])
        rows = list((await db.execute(select(ExpertCall).where(
            ExpertCall.session_id == s.id).order_by(ExpertCall.created_at))).scalars())
    return json_response(CallList(items=[await _call_out(services, c) for c in rows]))


async def get_call(request: web.Request) -> web.Response:
    _, c = await _office_call(request)
    return json_response(await _call_out(request.app[SERVICES], c))


async def rate_call(request: web.Request) -> web.Response:
    p, c = await _office_call(request)
    if p.role not in ("mediator", "admin"):
        raise Forbidden("Only the mediator rates the help.", code="role_not_allowed")
    if p.role == "mediator" and c.mediator_user_id != p.user_id:
        raise Forbidden("Only the mediator who called rates the help.", code="not_your_call")
    body = await read_body(request, RatingIn, _limit(request))
    if c.accepted_by is None or c.state not in ("joined", "ended") or c.joined_at is None:
        raise Conflict("Only help that arrived can be rated.", code="nothing_to_rate")
    services = request.app[SERVICES]
    async with services.db.session() as db:
        res = await db.execute(update(ExpertCall).where(
            ExpertCall.id == c.id, ExpertCall.rating.is_(None)).values(
            rating=body.stars, rating_comment=body.comment))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            await db.rollback()
            raise Conflict("This call is already rated.", code="already_rated")
        await db.execute(update(ExpertProfile).where(ExpertProfile.id == c.accepted_by).values(
            rating_sum=ExpertProfile.rating_sum + body.stars,
            rating_count=ExpertProfile.rating_count + 1))
        await db.commit()
        c = await db.get(ExpertCall, c.id, populate_existing=True)  # type: ignore[assignment]
    assert c is not None
    return json_response(await _call_out(services, c))


# -- room events (the mediator's side, on the room namespace) -----------------------
async def on_expert_call(services: Services, seat: dict[str, Any],
                         body: CallIn) -> dict[str, Any]:
    from experts.limits import EXPERT_CALL
    from signaling import ratelimit

    # Ringing wakes people up: a mediator's calls are limited (shared across nodes).
    await ratelimit.limiter_for(services).check(EXPERT_CALL, seat["participant_id"])
    return {"call": await runtime.switchboard(services).request(seat, body)}


async def on_expert_call_end(services: Services, seat: dict[str, Any],
                             body: CallRef) -> dict[str, Any]:
    return {"call": await runtime.switchboard(services).cancel(seat, body.call_id)}


async def on_expert_call_state(services: Services, seat: dict[str, Any],
                               body: CallRef) -> dict[str, Any]:
    board = runtime.switchboard(services)
    await board._mediator_call(seat, body.call_id)
    return {"call": await board.state_of(body.call_id)}


ROOM_EVENTS = {"expert_call": (CallIn, on_expert_call),
               "expert_call_end": (CallRef, on_expert_call_end),
               "expert_call_state": (CallRef, on_expert_call_state)}
"""Events this package adds to the room namespace; only the room's mediator may use them."""

SOCKET_EVENTS = tuple(SocketEvent(name, model, handler)  # type: ignore[arg-type]
                      for name, (model, handler) in ROOM_EVENTS.items())
"""``ROOM_EVENTS`` as the feature declares them (``experts/feature.py``)."""


def add_routes(api: ApiRouter) -> None:
    v1 = "/api/v1"
    anyone = "any logged-in user"
    readers = "the office's mediators, clerks and administrators"
    admins = "the office's administrators"
    for r in (
        Route("GET", f"{v1}/expert-domains", list_domains, "Expert domains", anyone, None,
              DomainList, tag="experts"),
        Route("GET", f"{v1}/experts", list_experts, "Search the expert directory", readers,
              None, ExpertList, tag="experts",
              query=(("domain", "a domain code"), ("language", "a language or dialect"),
                     ("region", "part of the region"), ("status", "online, busy or offline"))),
        Route("POST", f"{v1}/experts", create_expert, "List an expert account", admins,
              ExpertIn, ExpertOut, 201, tag="experts"),
        Route("GET", f"{v1}/experts/me", get_own_profile, "My expert profile", "the expert",
              None, ExpertOut, tag="experts"),
        Route("PATCH", f"{v1}/experts/me", update_own_profile, "Edit my expert profile",
              "the expert", ExpertSelfPatch, ExpertOut, tag="experts"),
        Route("GET", f"{v1}/experts/{{expert_id}}", get_expert, "One expert",
              readers + ", and the expert", None, ExpertOut, tag="experts"),
        Route("PATCH", f"{v1}/experts/{{expert_id}}", update_expert, "Edit an expert", admins,
              ExpertPatch, ExpertOut, tag="experts"),
        Route("GET", f"{v1}/experts/{{expert_id}}/ledger", expert_ledger,
              "An expert's time ledger", admins + " and the expert", None, LedgerOut,
              tag="experts", query=(("from", "first day (inclusive)"),
                                    ("to", "last bound (exclusive)"))),
        Route("GET", f"{v1}/experts/{{expert_id}}/ledger.csv", expert_ledger_csv,
              "An expert's time ledger as CSV", admins + " and the expert", None, CsvText,
              tag="experts", query=(("from", "first day (inclusive)"),
                                    ("to", "last bound (exclusive)")),
              content_type="text/csv"),
        Route("GET", f"{v1}/expert-ledger.csv", office_ledger_csv,
              "Every expert's minutes in a period, as CSV", admins, None, CsvText,
              tag="experts", query=(("from", "first day (inclusive)"),
                                    ("to", "last bound (exclusive)")),
              content_type="text/csv"),
        Route("GET", f"{v1}/sessions/{{session_id}}/expert-calls", session_calls,
              "Expert calls of a session", readers, None, CallList, tag="experts"),
        Route("GET", f"{v1}/expert-calls/{{call_id}}", get_call, "One expert call and its rings",
              readers, None, CallOut, tag="experts"),
        Route("POST", f"{v1}/expert-calls/{{call_id}}/rating", rate_call,
              "Rate the expert's help", "the mediator who called, or an administrator",
              RatingIn, CallOut, tag="experts"),
    ):
        api.add(r)
