"""HTTP handlers: load, check grants, call the domain code, respond. Nothing more."""

from __future__ import annotations

from aiohttp import web

from signaling import (
    accounts,
    cases,
    eventlog,
    intake,
    invites,
    ratelimit,
    return_visits,
    scheduling,
    sides,
)
from signaling.api.auth import require_principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.errors import Forbidden
from signaling.keys import SERVICES
from signaling.schemas import (
    CaseEventList,
    CaseEventOut,
    CaseIn,
    CaseList,
    CaseMoveIn,
    CaseOut,
    CaucusOut,
    EventList,
    EventOut,
    InviteCreated,
    InviteIn,
    InviteList,
    InviteOut,
    LoginIn,
    LoginOut,
    MeOut,
    OkOut,
    ParticipantOut,
    ScheduledOut,
    ScheduleIn,
    SessionIn,
    SessionList,
    SessionOut,
    SessionStateOut,
    SideIn,
    SideList,
    SideOut,
    UserOut,
)
from signaling.sockets.namespace import COOKIE_NAME


def _limit(request: web.Request) -> int:
    return request.app[SERVICES].settings.max_message_bytes


async def login(request: web.Request) -> web.Response:
    s = request.app[SERVICES]
    body = await read_body(request, LoginIn, _limit(request))
    limiter = ratelimit.limiter_for(s)
    ip = ratelimit.client_ip(request.remote,
                             ",".join(request.headers.getall("X-Forwarded-For", [])),
                             ratelimit.trusted_proxies(s.settings))
    # Counted before the password hash runs, so that a blocked client costs no CPU; the
    # shared counters stop an attacker spreading attempts over several nodes.
    await limiter.check(ratelimit.LOGIN_PER_IP, ip)
    await limiter.check(ratelimit.LOGIN_PER_USER, body.username.casefold())
    async with s.db.session() as db:
        user, token, ls = await accounts.login(db, body.username, body.password,
                                               s.settings.login_session_hours)
    await limiter.reset(ratelimit.LOGIN_PER_USER, body.username.casefold())
    out = LoginOut(user=UserOut.model_validate(user), token=token, csrf_token=ls.csrf_token,
                   expires_at=ls.expires_at)
    resp = json_response(out)
    resp.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict",
                    secure=s.settings.behind_tls, path="/",
                    max_age=s.settings.login_session_hours * 3600)
    return resp


async def logout(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        await accounts.logout(db, p.login_session_id)
    for on_logout in services.on_logout:  # open sockets of this login lose their powers
        await on_logout(p.login_session_id)
    resp = json_response(OkOut())
    resp.del_cookie(COOKIE_NAME, path="/")
    return resp


async def me(request: web.Request) -> web.Response:
    p = await require_principal(request)
    return json_response(MeOut(id=p.user_id, username=p.username, role=p.role,
                               display_name=p.display_name, office_id=p.office_id,
                               csrf_token=p.csrf_token,
                               office_time_zone=request.app[SERVICES].settings.office_time_zone))


async def create_case(request: web.Request) -> web.Response:
    p = await require_principal(request)
    body = await read_body(request, CaseIn, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        case = await cases.create_case(db, p, body)
    return json_response(CaseOut.model_validate(case), status=201)


async def list_cases(request: web.Request) -> web.Response:
    p = await require_principal(request)
    q = request.query.get("q", "")[:200]
    async with request.app[SERVICES].db.session() as db:
        items = await cases.list_cases(db, p, q)
    return json_response(CaseList(items=[CaseOut.model_validate(c) for c in items]))


async def get_case(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        case = await cases.get_case(db, p, request.match_info["case_id"])
    return json_response(CaseOut.model_validate(case))


async def move_case(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    body = await read_body(request, CaseMoveIn, _limit(request))
    async with services.db.session() as db:
        case = await cases.move_case(db, p, request.match_info["case_id"], body)
        if case.status == "agreed":  # the return visit falls due (signaling.return_visits)
            await return_visits.ensure_due(db, services.settings, case.id, p.user_id)
            await db.commit()
        out = CaseOut.model_validate(case)
    # An application's applicant hears of 受理 / 不予受理 (signaling.intake).
    await intake.notify_decision(services, case, body.to, body.reason)
    return json_response(out)


async def case_log(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        rows = await cases.case_log(db, p, request.match_info["case_id"])
    return json_response(CaseEventList(items=[
        CaseEventOut(at=e.at, actor_id=e.actor_id, actor_name=name, from_status=e.from_status,
                     to_status=e.to_status, reason=e.reason) for e, name in rows]))


async def list_sides(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        items = await sides.list_sides(db, p, request.match_info["case_id"])
    return json_response(SideList(items=[SideOut(key=x.key, name=x.name) for x in items]))


async def _sides_changed(request: web.Request, case_id: str) -> None:
    """Live rooms of the case show the new names at once."""
    services = request.app[SERVICES]
    async with services.db.session() as db:
        named = {x.key: x.name for x in await sides.sides_of_case(db, case_id)}
        live = await sides.live_sessions(db, case_id)
    for session_id in live:
        if await services.rooms.get(session_id) is None:
            continue
        async with services.rooms.edit(session_id) as room:
            room.sides = named
        if services.hub is not None:
            await services.hub.broadcast_layout(room)


async def add_side(request: web.Request) -> web.Response:
    p = await require_principal(request)
    body = await read_body(request, SideIn, _limit(request))
    case_id = request.match_info["case_id"]
    async with request.app[SERVICES].db.session() as db:
        side = await sides.add_side(db, p, case_id, body.name)
    await _sides_changed(request, case_id)
    return json_response(SideOut(key=side.key, name=side.name), status=201)


async def rename_side(request: web.Request) -> web.Response:
    p = await require_principal(request)
    body = await read_body(request, SideIn, _limit(request))
    case_id = request.match_info["case_id"]
    async with request.app[SERVICES].db.session() as db:
        side = await sides.rename_side(db, p, case_id, request.match_info["key"], body.name)
    await _sides_changed(request, case_id)
    return json_response(SideOut(key=side.key, name=side.name))


async def create_session(request: web.Request) -> web.Response:
    p = await require_principal(request)
    body = await read_body(request, SessionIn, _limit(request))
    async with request.app[SERVICES].db.session() as db:
        s = await cases.create_session(db, p, request.match_info["case_id"], body)
    return json_response(SessionOut.model_validate(s), status=201)


async def schedule_session(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    body = await read_body(request, ScheduleIn, _limit(request))
    done = await scheduling.schedule_session(services, p, request.match_info["case_id"], body)
    return json_response(ScheduledOut(
        session=SessionOut.model_validate(done.session),
        invites=[InviteCreated(**InviteOut.model_validate(inv).model_dump(),
                               url=invites.join_url(services.settings.public_url, token),
                               token=token) for inv, token in done.invites]), status=201)


async def list_sessions(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        items = await cases.list_sessions(db, p, request.match_info["case_id"])
    return json_response(SessionList(items=[SessionOut.model_validate(x) for x in items]))


async def session_state(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        s = await cases.get_session(db, p, request.match_info["session_id"])
    room = await services.rooms.get(s.id)
    if room is None:
        return json_response(SessionStateOut(session=SessionOut.model_validate(s),
                                             layout_version=0, joint=[], caucuses=[],
                                             participants=[], lobby=[]))
    lay = room.layout(for_admin=True)
    return json_response(SessionStateOut(
        session=SessionOut.model_validate(s), layout_version=lay["version"], joint=lay["joint"],
        caucuses=[CaucusOut(**c) for c in lay["caucuses"]],
        participants=[ParticipantOut(**x) for x in lay["participants"]],
        lobby=[ParticipantOut(**m.public(for_admin=True)) for m in room.lobby()],
        sides=[SideOut(**x) for x in lay["sides"]]))


async def create_invite(request: web.Request) -> web.Response:
    p = await require_principal(request)
    services = request.app[SERVICES]
    body = await read_body(request, InviteIn, _limit(request))
    async with services.db.session() as db:
        inv, token = await invites.create_invite(db, p, request.match_info["session_id"], body)
    out = InviteCreated(**InviteOut.model_validate(inv).model_dump(),
                        url=invites.join_url(services.settings.public_url, token), token=token)
    return json_response(out, status=201)


async def list_invites(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        items = await invites.list_invites(db, p, request.match_info["session_id"])
    return json_response(InviteList(items=[InviteOut.model_validate(i) for i in items]))


async def revoke_invite(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        inv = await invites.revoke_invite(db, p, request.match_info["invite_id"])
    return json_response(InviteOut.model_validate(inv))


async def session_events(request: web.Request) -> web.Response:
    p = await require_principal(request)
    if p.role not in ("mediator", "admin", "clerk"):
        raise Forbidden("Your role may not read the session log.", code="role_not_allowed")
    try:
        after = max(0, int(request.query.get("after", "0")[:12]))
    except ValueError:
        after = 0
    async with request.app[SERVICES].db.session() as db:
        s = await cases.get_session(db, p, request.match_info["session_id"])
        # Clerks read the joint record only: what was said in a caucus stays with its members.
        scope: set[str] | None = None if p.role in ("mediator", "admin") else set()
        items = await eventlog.read(db, s.id, caucuses=scope, after=after)
    return json_response(EventList(items=[EventOut.model_validate(e) for e in items]))


def add_routes(api: ApiRouter) -> None:
    v1 = "/api/v1"
    staff = "logged-in staff of the case's office"
    managers = "the office's mediators and administrators"
    for r in (
        Route("POST", f"{v1}/auth/login", login, "Log in", "anyone", LoginIn, LoginOut, tag="auth"),
        Route("POST", f"{v1}/auth/logout", logout, "Log out", "any logged-in user", None, OkOut,
              tag="auth"),
        Route("GET", f"{v1}/auth/me", me, "Who am I (and the login's CSRF token)",
              "any logged-in user", None, MeOut,
              tag="auth"),
        Route("POST", f"{v1}/cases", create_case, "Open a case", managers, CaseIn, CaseOut, 201,
              tag="cases"),
        Route("GET", f"{v1}/cases", list_cases, "List and search cases", staff, None, CaseList,
              tag="cases", query=(("q", "search in number and summary"),)),
        Route("GET", f"{v1}/cases/{{case_id}}", get_case, "One case", staff, None, CaseOut,
              tag="cases"),
        Route("POST", f"{v1}/cases/{{case_id}}/moves", move_case,
              "Move a case to another state of its life (signaling/case_states.py)",
              "the case's mediator or an administrator of its office", CaseMoveIn, CaseOut,
              tag="cases"),
        Route("GET", f"{v1}/cases/{{case_id}}/log", case_log,
              "The case's log: every move, who made it, when and why", staff, None,
              CaseEventList, tag="cases"),
        Route("GET", f"{v1}/cases/{{case_id}}/sides", list_sides,
              "The case's named sides (申请人 A, 被申请人 B, and any added)", staff, None,
              SideList, tag="cases"),
        Route("POST", f"{v1}/cases/{{case_id}}/sides", add_side,
              "Add a side (第三人, ...): it gets the next free key, C to L",
              "the case's mediator or an administrator of its office", SideIn, SideOut, 201,
              tag="cases"),
        Route("PATCH", f"{v1}/cases/{{case_id}}/sides/{{key}}", rename_side, "Rename a side",
              "the case's mediator or an administrator of its office", SideIn, SideOut,
              tag="cases"),
        Route("POST", f"{v1}/cases/{{case_id}}/sessions", create_session, "Schedule a session",
              managers, SessionIn, SessionOut, 201, tag="sessions"),
        Route("POST", f"{v1}/cases/{{case_id}}/schedule", schedule_session,
              "Schedule a session with invitations sent ahead (SMS or e-mail with .ics) and "
              "reminders the day before and an hour before",
              "the case's mediator or an administrator of its office", ScheduleIn,
              ScheduledOut, 201, tag="sessions"),
        Route("GET", f"{v1}/cases/{{case_id}}/sessions", list_sessions, "Sessions of a case",
              staff, None, SessionList, tag="sessions"),
        Route("GET", f"{v1}/sessions/{{session_id}}", session_state,
              "A session's live state: layout, caucuses, lobby", staff, None, SessionStateOut,
              tag="sessions"),
        Route("GET", f"{v1}/sessions/{{session_id}}/events", session_events,
              "The session's event log (joint record for clerks)", staff, None, EventList,
              tag="sessions", query=(("after", "only events with a larger sequence number"),)),
        Route("POST", f"{v1}/sessions/{{session_id}}/invites", create_invite,
              "Create a join link", managers, InviteIn, InviteCreated, 201, tag="invites"),
        Route("GET", f"{v1}/sessions/{{session_id}}/invites", list_invites, "List join links",
              staff, None, InviteList, tag="invites"),
        Route("POST", f"{v1}/invites/{{invite_id}}/revoke", revoke_invite,
              "Withdraw a join link", managers, None, InviteOut, tag="invites"),
    ):
        api.add(r)
