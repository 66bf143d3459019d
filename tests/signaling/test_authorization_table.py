"""The authorization table, walked: every route and every event of every namespace × every
kind of caller, with real objects.

The world is one office with two sessions. Session 1 is live: a mediator and a clerk in
the joint session, a party of side A there, another of side A in caucus K1 with an expert
called into K1 only, side B in caucus K2, a hidden observer, someone waiting in the lobby,
someone removed, and a co-mediator whose login has logged out. Session 2 has a party and
has been ended. The objects are real: drafts (joint, K1, session 2), evidence (shown in
the joint session, uploaded in K1, of session 2), expert calls, a signing round, utterances.
A "not found" for one of them is the server hiding it from the caller: a refusal, and it
must be one the table states. A route or event the table does not list fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from agreements.models import DocumentKind
from experts import authz as experts_authz
from experts.console import CONSOLE_EVENTS
from signaling import authz, web
from signaling.keys import API
from signaling.sockets.namespace import EVENTS
from tests.signaling.harness import (
    Client,
    Server,
    Staff,
    connect,
    login,
    make_user,
    running_server,
)

pytestmark = pytest.mark.slow

OTHER_OFFICE = "赤峰市红山区人民调解委员会"
CITY_OFFICE = "长宁区新泾镇人民调解委员会"
"""An office of the walk's city that lends its experts to the walk's office."""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "LoginIn": {"username": "nobody-here", "password": "wrong-password"},
    "CaseIn": {"number": "AUTHZ-{n}", "dispute_type": "debt"},
    "CaseMoveIn": {"to": "accepted"},
    "ScheduleIn": {"starts_at": "2027-06-01T09:30:00", "invitees": []},
    "SessionIn": {"title": "authz"},
    "InviteIn": {"role": "party", "side": "B"},
    "CorrectionIn": {"text": "更正后的文字"},
    "ExpertIn": {"user_id": "0" * 32, "domains": ["legal"]},
    "ExpertPatch": {"region": "上海"},
    "ExpertSelfPatch": {"region": "上海"},
    "RatingIn": {"stars": 4},
    "SendCopyIn": {"party_id": "P1", "channel": "sms"},
    "SideIn": {"name": "第三人{n}"},
    "StaffIn": {"username": "authz-{n}", "display_name": "新人", "role": "clerk",
                "password": "a-long-password"},
    "StaffPatch": {"display_name": "改名"},
    "PasswordIn": {"password": "another-long-password"},
    "PhoneCodeIn": {"phone": "13800000000"},
    "ApplicationIn": {"applicant": {"name": "x"}},
    "DeclineIn": {"token": "not-a-real-invitation-token"},
    "IntakeIn": {"decision": "refuse", "reason": "不属于人民调解受理范围"},
    "AssignIn": {"assign": "manual", "mediator_id": "0" * 32},
    "AreasIn": {"items": []},
    "OfficeIn": {"name": "授权测试调委会{n}", "city": "杭州市"},
    "OfficePatch": {"address": "幸福路{n}号"},
    "DisputeTypeIn": {"name": "类型{n}"},
    "DisputeTypePatch": {"name": "改名{n}"},
    "DueIn": {"due_on": "2027-01-01"},
    "VisitIn": {"visitor": "李调解员", "method": "phone", "performed": True},
}
PATH_OF_OBJECT = {
    "joint_draft": ("draft_id", "d_joint"), "caucus_draft": ("draft_id", "d_k1"),
    "other_session_draft": ("draft_id", "d_other"),
    "joint_evidence": ("evidence_id", "ev_joint"), "caucus_evidence": ("evidence_id", "ev_k1"),
    "other_session_evidence": ("evidence_id", "ev_other"),
    "call": ("call_id", "call"), "other_session_call": ("call_id", "call_other"),
    "ceremony": ("ceremony_id", "ceremony"),
    "own_session": ("session_id", "s1"), "other_session": ("session_id", "s2"),
    "joint_utterance": ("utterance_id", "u_joint"), "caucus_utterance": ("utterance_id", "u_k1"),
    "application_case": ("case_id", "app_case"),
}
"""Object name → (the parameter that names it, the world id it names)."""


@dataclass
class World:
    """The office, its two sessions, every kind of caller and the real objects."""

    srv: Server
    tokens: dict[str, str | None] = field(default_factory=dict)
    """HTTP caller → bearer token."""
    seats: dict[str, Client] = field(default_factory=dict)
    """Socket caller → its connection in the room namespace."""
    seat_tokens: dict[str, str] = field(default_factory=dict)
    """Seat caller → the resume token it sends as X-Seat-Token."""
    ids: dict[str, str] = field(default_factory=dict)
    consoles: dict[str, Console] = field(default_factory=dict)

    def session_of(self, caller: str) -> tuple[str, str]:
        """(own, other) session for ``own_session``/``other_session``."""
        s1, s2 = self.ids["s1"], self.ids["s2"]
        return (s2, s1) if caller == authz.S_ENDED else (s1, s2)


async def staff_call(srv: Server, http: aiohttp.ClientSession, token: str, method: str,
                     path: str, body: Any = None, **kw: Any) -> Any:
    async with http.request(method, srv.url + path, json=body,
                            headers={"Authorization": f"Bearer {token}"}, **kw) as r:
        out = await r.json(content_type=None)
        assert r.status < 300, (path, r.status, out)
        return out


async def admitted(med: Client, staff: Staff, session_id: str, name: str, *,
                   role: str = "party", side: str | None = "A", admit: bool = True) -> Client:
    body: dict[str, Any] = {"role": role} | ({"side": side} if side else {})
    inv = await staff.invite(session_id, **body)
    c = await connect(staff.server.url, {"invite": inv["token"], "name": name, "consent": True})
    if admit:
        assert (await med.call("admit", {"participant_id": c.pid}))["ok"]
        await c.wait_for("admitted")
    return c


async def expert_profile(srv: Server, http: aiohttp.ClientSession, admin: Staff,
                         expert: Staff, domain: str = "legal") -> str:
    out = await staff_call(srv, http, admin.token, "POST", "/api/v1/experts", {
        "user_id": expert.user["id"], "domains": [domain], "availability": ALWAYS,
        "phone": "13800138000"})
    return str(out["id"])


@dataclass
class Console:
    """An expert console connection and the events it received."""

    sio: socketio.AsyncClient
    seen: list[tuple[str, Any]] = field(default_factory=list)

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        return await self.sio.call(event, data, namespace="/experts", timeout=15)


async def open_console(url: str, token: str) -> Console:
    c = Console(socketio.AsyncClient(reconnection=False))

    async def record(event: str, data: Any = None) -> None:
        c.seen.append((event, data))

    c.sio.on("*", record, namespace="/experts")
    await c.sio.connect(url, auth={"token": token}, namespaces=["/experts"],
                        transports=["websocket"], wait_timeout=10)
    return c


async def wait_ring(console: Console, call_id: str) -> None:
    for _ in range(500):
        if any(e == "ring" and isinstance(d, dict) and d.get("call_id") == call_id
               for e, d in console.seen):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no ring for {call_id}")


async def stored_utterance(srv: Server, session_id: str, caucus_id: str | None = None,
                           speaker: str = "p" * 32) -> str:
    import uuid

    from media.tap import Speaker
    from transcription.store import store_utterance
    from transcription.utterance import Caption

    c = Caption(utterance_id=str(uuid.uuid4()), session_id=session_id,
                speaker=Speaker(speaker, "张三", "party"), caucus_id=caucus_id, start=1.0,
                end=2.0, text="我同意", final=True, model="base", confidence=0.9, language="zh")
    async with srv.services.db.session() as db:
        await store_utterance(db, c)
    return c.utterance_id


async def stored_draft(srv: Server, case_id: str, session_id: str, caucus_id: str | None,
                       kind: DocumentKind = "agreement",
                       seats: dict[str, str] | None = None) -> str:
    from agreements.demo import demo_agreement, demo_record
    from agreements.runtime import runtime
    from agreements.store_sql import Place

    data: Any = demo_agreement() if kind == "agreement" else demo_record()
    version = await runtime(srv.services).run(
        lambda st: st.drafts.create(case_number=data.case_number, kind=kind, data=data,
                                    author="mediator"),
        Place(case_id, session_id, caucus_id))
    return str(version.draft_id)


async def stored_application(srv: Server, http: aiohttp.ClientSession,
                             office_id: str) -> dict[str, str]:
    """An application through the public route, its phone code planted in the database."""
    from tests.signaling.test_intake import plant_code, submit_application

    await plant_code(srv, "13900000009", "424242")
    out = await submit_application(srv, http, office_id, phone="13900000009", code="424242",
                                   files=[("photo.png", PNG)])
    staff_reader = await login(srv, http, "adm")
    st, app = await staff_reader.call("GET", "/api/v1/cases?q=" + out["reference"])
    case_id = app["items"][0]["id"]
    st, detail = await staff_reader.call("GET", f"/api/v1/cases/{case_id}/application")
    assert st == 200, detail
    return {"reference": out["reference"], "app_case": case_id,
            "attachment_id": detail["attachments"][0]["id"]}


@asynccontextmanager
async def world(srv: Server, http: aiohttp.ClientSession) -> AsyncIterator[World]:
    """The world, with its expert consoles closed afterwards (the harness closes the room
    clients; an open console would hold the server's shutdown until its ping time-out)."""
    w = World(srv)
    try:
        await build_world(w, http)
        yield w
    finally:
        for c in w.consoles.values():
            if c.sio.connected:
                await c.sio.disconnect()


async def build_world(w: World, http: aiohttp.ClientSession) -> None:
    from tests.agreements.room_helpers import stored_document

    srv = w.srv
    for name, role in (("med", "mediator"), ("med2", "mediator"), ("gone", "mediator"),
                       ("clerk", "clerk"), ("adm", "admin"), ("exp", "expert"),
                       ("exp2", "expert")):
        await make_user(srv, name, role)
    await make_user(srv, "spare", "clerk")  # the account the staff routes change
    await make_user(srv, "outsider", "mediator", office=OTHER_OFFICE)
    await make_user(srv, "oadm", "admin", office=OTHER_OFFICE)
    await make_user(srv, "oexp", "expert", office=OTHER_OFFICE)
    await make_user(srv, "cadm", "admin", office=CITY_OFFICE)
    await make_user(srv, "cexp", "expert", office=CITY_OFFICE)
    staff = {u: await login(srv, http, u)
             for u in ("med", "med2", "gone", "clerk", "adm", "exp", "exp2", "outsider", "oadm",
                       "oexp", "spare", "cadm", "cexp")}
    # The walk's office calls the city's experts; CITY_OFFICE, of the same city, lends its
    # own; OTHER_OFFICE (no city, lending nothing) stays a stranger.
    for who, switches in (("adm", {"use_city_experts": True}), ("cadm", {"share_experts": True})):
        out = await staff_call(srv, http, staff[who].token, "PATCH", "/api/v1/office",
                               {"city": "上海市", **switches})
        assert out["city"] == "上海市", out
    w.ids["user_id"] = staff["spare"].user["id"]
    from agreements.builtin import builtin_template

    async with http.post(srv.url + "/api/v1/templates?kind=agreement&name=authz",
                         data=builtin_template("agreement", "zh-CN"), headers={
                             "Authorization": f"Bearer {staff['adm'].token}",
                             "Content-Type": DOCX}) as r:
        assert r.status == 201, await r.text()
        w.ids["template_id"] = (await r.json())["id"]
    med = staff["med"]
    w.tokens = {authz.ANON: None, authz.MEDIATOR: med.token, authz.CLERK: staff["clerk"].token,
                authz.ADMIN: staff["adm"].token, authz.EXPERT_USER: staff["exp"].token,
                authz.OTHER_OFFICE: staff["outsider"].token,
                authz.LOGGED_OUT: staff["gone"].token}
    await staff_call(srv, http, staff["gone"].token, "POST", "/api/v1/auth/logout")
    w.ids["expert_id"] = await expert_profile(srv, http, staff["adm"], staff["exp"])
    await expert_profile(srv, http, staff["adm"], staff["exp2"])
    await expert_profile(srv, http, staff["oadm"], staff["oexp"])
    # Another domain, so that only the calls naming it ring the lent expert.
    w.ids["city_expert_id"] = await expert_profile(srv, http, staff["cadm"], staff["cexp"],
                                                   "medical")
    async with http.post(srv.url + "/api/v1/office/dispute-types", json={"name": "走访类型"},
                         headers={"Authorization": f"Bearer {staff['adm'].token}"}) as r:
        assert r.status == 201, await r.text()
        w.ids["type_id"] = (await r.json())["id"]

    # An application made on the office's public page (with an attachment).
    w.ids["office_id"] = med.user["office_id"]
    w.ids.update(await stored_application(srv, http, w.ids["office_id"]))

    # Two sessions of the office.
    w.ids["case_id"], w.ids["s1"] = await med.new_session()
    case2, w.ids["s2"] = await med.new_session("(2026)长北调字第2号")
    w.ids["session_id"] = w.ids["s1"]
    w.ids["invite_id"] = (await med.invite(w.ids["s1"]))["id"]

    # Session 1, live.
    m = await connect(srv.url, {"token": med.token, "session_id": w.ids["s1"]})
    clerk = await connect(srv.url, {"token": staff["clerk"].token, "session_id": w.ids["s1"]})
    a1 = await admitted(m, med, w.ids["s1"], "甲一")
    a2 = await admitted(m, med, w.ids["s1"], "甲二")
    b = await admitted(m, med, w.ids["s1"], "乙", side="B")
    obs = await admitted(m, med, w.ids["s1"], "观察员", role="observer", side=None)
    target = await admitted(m, med, w.ids["s1"], "目标")
    gone = await admitted(m, med, w.ids["s1"], "被移出")
    lobby = await admitted(m, med, w.ids["s1"], "候场", admit=False)
    w.ids["target"] = target.pid
    k1 = (await m.call("caucus_create", {"name": "甲方", "members": [a2.pid]}))["caucus_id"]
    w.ids["k2"] = (await m.call("caucus_create", {"name": "乙方", "members": [b.pid]}))[
        "caucus_id"]
    w.ids["k3"] = (await m.call("caucus_create", {"name": "空", "members": []}))["caucus_id"]
    w.ids["k1"] = k1

    # The expert, called into K1 only (before the console callers are online, so that the
    # call rings this one alone).
    console = await open_console(srv.url, staff["exp"].token)
    w.consoles["k1_expert"] = console
    ack = await m.call("expert_call", {"domain": "legal", "scope": "caucus", "caucus_id": k1})
    assert ack["ok"], ack
    w.ids["call"] = w.ids["call_id"] = ack["call"]["call_id"]
    await wait_ring(console, w.ids["call"])
    acc = await console.call("accept", {"call_id": w.ids["call"]})
    assert acc["ok"], acc
    expert = await connect(srv.url, {"resume": acc["grant"]["token"]})
    assert expert.welcome["grants"]["caucus_scope"] == k1
    if expert.welcome["state"] != "room":
        await expert.wait_for("admitted")
    w.seat_tokens[authz.S_SCOPED_EXPERT] = acc["grant"]["token"]
    w.consoles[experts_authz.C_EXPERT] = await open_console(srv.url, staff["exp2"].token)
    w.consoles[experts_authz.C_OTHER_OFFICE_EXPERT] = await open_console(srv.url,
                                                                         staff["oexp"].token)
    w.consoles[experts_authz.C_CITY_EXPERT] = await open_console(srv.url, staff["cexp"].token)

    # Drafts, a sealed document, the record's signing round, utterances.
    w.ids.update(await stored_document(srv, w.ids["case_id"], w.ids["s1"]))
    w.ids["d_joint"] = w.ids["draft_id"]
    w.ids["d_k1"] = await stored_draft(srv, w.ids["case_id"], w.ids["s1"], k1)
    w.ids["d_other"] = await stored_draft(srv, case2, w.ids["s2"], None)
    record = await stored_draft(srv, w.ids["case_id"], w.ids["s1"], None, kind="record")
    opened = await m.call("signing_open", {"draft_id": record,
                                           "seats": {"P1": a1.pid, "P2": b.pid}})
    assert opened["ok"], opened
    w.ids["ceremony"] = opened["ceremony_id"]
    w.ids["d_record"] = record
    w.ids["u_joint"] = await stored_utterance(srv, w.ids["s1"], None, a1.pid)
    w.ids["u_k1"] = await stored_utterance(srv, w.ids["s1"], k1, a2.pid)
    w.ids["utterance_id"] = w.ids["u_joint"]

    # Evidence: shown in the joint session; uploaded in K1 and not shown.
    w.ids["ev_joint"] = (await staff_call(srv, http, med.token, "POST",
                                          f"/api/v1/sessions/{w.ids['s1']}/evidence",
                                          data=PNG))["id"]
    assert (await m.call("evidence_show", {"evidence_id": w.ids["ev_joint"]}))["ok"]
    async with http.post(srv.url + f"/api/v1/sessions/{w.ids['s1']}/evidence?title=底线",
                         data=PNG, headers={"X-Seat-Token": a2.welcome["resume_token"]}) as r:
        assert r.status == 201, await r.text()
        w.ids["ev_k1"] = (await r.json())["id"]
    w.ids["evidence_id"] = w.ids["ev_joint"]

    # Session 2: evidence shown there, an expert call, a party; then it ends.
    m2 = await connect(srv.url, {"token": med.token, "session_id": w.ids["s2"]})
    p2 = await admitted(m2, med, w.ids["s2"], "另案")
    w.ids["ev_other"] = (await staff_call(srv, http, med.token, "POST",
                                          f"/api/v1/sessions/{w.ids['s2']}/evidence",
                                          data=PNG))["id"]
    assert (await m2.call("evidence_show", {"evidence_id": w.ids["ev_other"]}))["ok"]
    ack = await m2.call("expert_call", {"domain": "legal", "scope": "joint"})
    assert ack["ok"], ack
    w.ids["call_other"] = ack["call"]["call_id"]
    assert (await m2.call("end_session"))["ok"]

    # Removed, and a co-mediator whose login then logs out.
    assert (await m.call("remove", {"participant_id": gone.pid}))["ok"]
    co = await connect(srv.url, {"token": staff["med2"].token, "session_id": w.ids["s1"]})
    await staff_call(srv, http, staff["med2"].token, "POST", "/api/v1/auth/logout")

    w.seats = {authz.S_MEDIATOR: m, authz.S_CLERK: clerk, authz.S_PARTY: a1,
               authz.S_CAUCUS_PARTY: a2, authz.S_OTHER_SIDE: b, authz.S_LOBBY: lobby,
               authz.S_OBSERVER: obs, authz.S_SCOPED_EXPERT: expert, authz.S_REMOVED: gone,
               authz.S_ENDED: p2, authz.S_LOGGED_OUT: co}
    for caller, c in w.seats.items():
        if c.welcome.get("resume_token"):
            w.seat_tokens.setdefault(caller, c.welcome["resume_token"])
    assert set(w.seat_tokens) == set(authz.SEAT_TOKEN_CALLERS)


# -- the table is complete -------------------------------------------------------------

def served(srv: Server) -> set[tuple[str, str]]:
    """Every (method, path) the app answers; HEAD is GET's."""
    out = set()
    for r in srv.app.router.routes():
        if r.resource is None:
            continue
        out.add(("GET" if r.method == "HEAD" else r.method, r.resource.canonical))
    return out


async def test_every_served_route_is_in_the_table(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        declared = served(srv)
        api = {(r.method, r.path) for r in srv.app[API].routes}
    listed = set(authz.HTTP) | set(authz.WEB)
    assert declared - listed == set(), \
        "routes missing from the table (signaling/authz.py, or the package's own authz.py)"
    assert listed - declared == set(), "stale entries in signaling/authz.py or <package>/authz.py"
    assert api == set(authz.HTTP), "API routes belong in authz.HTTP, the rest in authz.WEB"


def test_every_event_of_every_namespace_is_in_the_table(tmp_path: Path) -> None:
    from signaling.app import build_app
    from signaling.settings import load_settings

    # Registers every package's events, and gathers their rows into the table.
    build_app(load_settings(data_dir=tmp_path, env="test"))
    assert set(EVENTS) == set(authz.EVENTS), "room events and the table differ"
    assert set(authz.NAMESPACES) == {"/", "/experts"}
    assert set(CONSOLE_EVENTS) == set(authz.NAMESPACES["/experts"]), \
        "/experts events and experts/authz.py differ"
    for rule in [*authz.HTTP.values(), *authz.EVENTS.values(),
                 *authz.NAMESPACES["/experts"].values()]:
        assert set(rule.objects) <= set(authz.OBJECTS), rule


# -- the walk ----------------------------------------------------------------------------

def refusal(status: int, code: str | None) -> bool:
    return status in (401, 403, 404, 410) and code in authz.REFUSAL_CODES


def variants(rule: authz.Rule) -> list[tuple[str | None, frozenset[str]]]:
    return list(rule.objects.items()) if rule.objects else [(None, rule.allowed)]


async def http_answer(w: World, http: aiohttp.ClientSession, method: str, path: str,
                      headers: dict[str, str], body: Any, data: bytes | None,
                      query: str = "") -> tuple[int, str | None]:
    async with http.request(method, w.srv.url + path + query, json=body, data=data,
                            headers=headers) as r:
        status = r.status
        payload = await r.json(content_type=None) if r.content_type.endswith("json") else {}
    code = payload.get("error", {}).get("code") if isinstance(payload, dict) else None
    return status, code


async def test_every_route_answers_every_caller_as_the_table_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    (dist / "assets" / "app-0123456789.js").write_text("0")
    (dist / "assets" / "pdf" / "cmaps").mkdir(parents=True)
    (dist / "assets" / "pdf" / "cmaps" / "app-0123456789.js").write_text("0")  # any name
    monkeypatch.setattr(web, "DIST", dist)
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http, AsyncExitStack() as stack:
        w = await stack.enter_async_context(world(srv, http))
        ids = dict(w.ids, name="app-0123456789.js", key="B", kind="cmaps")
        mismatches = []
        n = 0
        routes = [(r.method, r.path, r.body.__name__ if r.body else None, authz.HTTP[
            (r.method, r.path)]) for r in srv.app[API].routes
            if not r.path.endswith("/auth/logout")]  # last: it ends the login
        routes += [(m, p, None, rule) for (m, p), rule in authz.WEB.items()]
        for method, template, body_model, rule in routes:
            for obj, allowed in variants(rule):
                seat_route = any(c in allowed for c in authz.SEAT_TOKEN_CALLERS) or \
                    template.endswith("/evidence") or "/evidence/" in template
                callers = list(authz.HTTP_CALLERS) + \
                    (list(authz.SEAT_TOKEN_CALLERS) if seat_route else [])
                for caller in callers:
                    n += 1
                    params = dict(ids)
                    if obj is not None:
                        key, ref = PATH_OF_OBJECT[obj]
                        params[key] = ids[ref]
                        if obj in ("own_session", "other_session"):
                            own, other = w.session_of(caller)
                            params[key] = own if obj == "own_session" else other
                    path = template.format(**params)
                    body = None
                    if body_model is not None:
                        body = {k: (v.format(n=n) if isinstance(v, str) else v)
                                for k, v in SAMPLE_BODIES[body_model].items()}
                    headers = {}
                    if caller in authz.SEAT_TOKEN_CALLERS:
                        headers["X-Seat-Token"] = w.seat_tokens[caller]
                    elif w.tokens[caller]:
                        headers["Authorization"] = f"Bearer {w.tokens[caller]}"
                    data = PNG if template.endswith("/evidence") else None
                    query = "?EIO=4&transport=polling" if template == "/socket.io/" and \
                        method == "GET" else ""
                    status, code = await http_answer(w, http, method, path, headers, body,
                                                     data, query)
                    refused = refusal(status, code)
                    if template.endswith("/auth/login"):
                        refused = False  # anyone may try; wrong credentials are no refusal
                    if (caller in allowed) == refused:
                        mismatches.append((method, template, obj, caller, status, code))
        # Logging out, last: every login may end itself, nobody else's.
        for caller in authz.HTTP_CALLERS:
            rule = authz.HTTP[("POST", "/api/v1/auth/logout")]
            headers = {"Authorization": f"Bearer {w.tokens[caller]}"} if w.tokens[caller] \
                else {}
            status, code = await http_answer(w, http, "POST", "/api/v1/auth/logout", headers,
                                             None, None)
            if (caller in rule.allowed) == refusal(status, code):
                mismatches.append(("POST", "/api/v1/auth/logout", None, caller, status, code))
    assert not mismatches, "\n".join(map(str, mismatches))


def sample_event(event: str, obj: str | None, ids: dict[str, str]) -> dict[str, Any]:
    t = ids["target"]
    ref = ids[PATH_OF_OBJECT[obj][1]] if obj else "0" * 32
    samples: dict[str, dict[str, Any]] = {
        "admit": {"participant_id": t}, "deny": {"participant_id": t},
        "send_back": {"participant_id": t}, "remove": {"participant_id": t},
        "mute": {"participant_id": t, "source": "audio", "muted": True},
        "request_mute": {"participant_id": t}, "shared_device": {"participant_id": t, "people": 2},
        "voice_enroll": {"participant_id": t, "name": "王芳"},
        "caucus_create": {"name": "x"}, "caucus_move": {"participant_id": t,
                                                        "caucus_id": ids["k3"]},
        "caucus_end": {"caucus_id": ids["k3"]}, "chat": {"text": "hello"},
        "caucus_extend": {"caucus_id": ids["k3"], "minutes": 5},
        "interpreter_attach": {"participant_id": t, "interprets_for": None},
        "hand": {"raised": True}, "lobby_message": {"text": "五分钟后开始"},
        "signal": {"type": "candidate", "candidate": {}},
        "evidence_show": {"evidence_id": ref}, "recording": {"on": True},
        "exhibit_page": {"evidence_id": ref, "page": 2},
        "share_grant": {"participant_id": t, "allowed": True}, "screen_share": {"on": True},
        "audio_only": {"on": True},
        "expert_call": {"domain": "legal", "scope": "joint"},
        "expert_call_end": {"call_id": ref}, "expert_call_state": {"call_id": ref},
        "draft_create": {"kind": "record", "data": {}},
        "draft_edit": {"draft_id": ref, "base_version": 1, "data": {}},
        "draft_comment": {"draft_id": ref, "version": 1, "text": "x"},
        "draft_get": {"draft_id": ref}, "signing_open": {"draft_id": ref},
        "draft_seal": {"draft_id": ref}, "signing_send_code": {"ceremony_id": ref},
        "sign": {"ceremony_id": ref, "code": "000000", "version_digest": "0" * 64,
                 "typed_name": "x"},
        "party_details_get": {"draft_id": ref},
        "draft_preview": {"kind": "record", "data": {}},
        "party_confirm": {"draft_id": ref, "version": 1, "party_id": "P1"},
    }
    return samples.get(event, {})


async def call_within_limit(client: Any, event: str, data: dict[str, Any]) -> Any:
    """Send as the table walk needs: hundreds of events per connection outrun the per-
    connection token bucket on a fast machine, and a ``rate_limited`` answer says nothing
    about permission, so it is waited out (``retry_after``) and the event is sent again."""
    for _ in range(20):
        ack = await client.call(event, data)
        if ack.get("ok") or ack.get("error", {}).get("code") != "rate_limited":
            return ack
        await asyncio.sleep(float(ack["error"].get("retry_after", 0.05)) + 0.01)
    return ack


# Events that change who is where run last, once, so that they do not spoil the others;
# the mediator acts last within each event, because its success changes the room.
LAST = ("send_back", "remove", "deny", "leave", "caucus_return_all", "expert_call_end",
        "end_session")
"""Ending the caucuses or the call also ends the scoped expert's seat, so those follow
``leave``; the end of the session comes last."""


def readable_drafts(caller: str, ids: dict[str, str]) -> set[str]:
    """The session's drafts the table lets ``caller`` get: draft_list must list these."""
    rule = authz.EVENTS["draft_get"].objects
    out = set()
    if caller in rule["joint_draft"]:
        out |= {ids["d_joint"], ids["d_record"]}  # the record is a joint draft too
    if caller in rule["caucus_draft"]:
        out.add(ids["d_k1"])
    return out


async def test_every_event_answers_every_seat_as_the_table_says(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http, world(srv, http) as w:
        # A removed seat's socket is closed by the server, and it cannot come back.
        from tests.signaling.test_join_flow import refused as connect_refused

        removed = await connect_refused(srv.url, {"resume": w.seat_tokens[authz.S_REMOVED]})
        assert removed["code"] in authz.REFUSAL_CODES, removed
        ended = await connect_refused(srv.url, {"resume": w.seat_tokens[authz.S_ENDED]})
        assert ended["code"] in authz.REFUSAL_CODES, ended
        mismatches: list[tuple[str, str | None, str, object]] = []
        order = [e for e in EVENTS if e not in LAST] + [e for e in LAST if e in EVENTS]
        callers = [c for c in authz.SOCKET_CALLERS if c != authz.S_MEDIATOR]
        callers.append(authz.S_MEDIATOR)
        for event in order:
            for obj, allowed in variants(authz.EVENTS[event]):
                for caller in callers:
                    client = w.seats[caller]
                    if not client.sio.connected:
                        # Cut off by the server: nothing it sends is heard.
                        if caller in allowed:
                            mismatches.append((event, obj, caller, "disconnected"))
                        continue
                    try:
                        ack = await call_within_limit(client, event,
                                                      sample_event(event, obj, w.ids))
                    except socketio.exceptions.TimeoutError:
                        # The server refused an earlier event and closed this connection
                        # (an ended session, a logged-out login) while this one was sent.
                        assert not client.sio.connected, (event, caller)
                        ack = {"ok": False, "error": {"code": "session_ended"}}
                    refused = not ack["ok"] and ack["error"]["code"] in authz.REFUSAL_CODES
                    if (caller in allowed) == refused:
                        mismatches.append((event, obj, caller, ack))
                    elif event == "draft_list" and ack["ok"]:
                        listed = {d["draft_id"] for d in ack["drafts"]}
                        if listed != readable_drafts(caller, w.ids):
                            mismatches.append((event, obj, caller, sorted(listed)))
        assert not mismatches, "\n".join(map(str, mismatches))


async def test_the_expert_console_answers_every_caller_as_the_table_says(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http, world(srv, http) as w:
        mismatches = []
        for caller in authz.HTTP_CALLERS:
            sio = socketio.AsyncClient(reconnection=False)
            token = w.tokens[caller]
            joined: bool
            try:
                await sio.connect(srv.url, auth={"token": token} if token else {},
                                  namespaces=["/experts"], transports=["websocket"],
                                  wait_timeout=10)
                joined = True
            except socketio.exceptions.ConnectionError:
                joined = False
            await sio.disconnect()
            if joined != (caller in experts_authz.CONSOLE_CONNECT.allowed):
                mismatches.append(("connect", caller, joined))
        # Two fresh rings for the rung expert; hang_up names the one it accepts in the walk.
        m = w.seats[authz.S_MEDIATOR]
        rings = {}
        for event in ("accept", "decline"):
            ack = await m.call("expert_call", {"domain": "legal", "scope": "joint"})
            assert ack["ok"], ack
            rings[event] = ack["call"]["call_id"]
            await wait_ring(w.consoles[experts_authz.C_EXPERT], rings[event])
        rings["hang_up"] = rings["accept"]
        # The lent expert's own two rings: calls naming them (another domain than the rest).
        city_rings = {}
        for event in ("accept", "decline"):
            ack = await m.call("expert_call", {"domain": "medical", "scope": "joint",
                                               "expert_id": w.ids["city_expert_id"]})
            assert ack["ok"], ack
            city_rings[event] = ack["call"]["call_id"]
            await wait_ring(w.consoles[experts_authz.C_CITY_EXPERT], city_rings[event])
        city_rings["hang_up"] = city_rings["accept"]
        for event, rule in authz.NAMESPACES["/experts"].items():
            for caller in (experts_authz.C_OTHER_OFFICE_EXPERT, experts_authz.C_EXPERT,
                           experts_authz.C_CITY_EXPERT):
                ring = (city_rings if caller == experts_authz.C_CITY_EXPERT else rings)[event]
                ack = await w.consoles[caller].call(event, {"call_id": ring})
                refused = not ack["ok"] and ack["error"]["code"] in authz.REFUSAL_CODES
                if (caller in rule.allowed) == refused:
                    mismatches.append((event, caller, ack))
        assert not mismatches, "\n".join(map(str, mismatches))
