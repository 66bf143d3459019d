"""The authorization table, walked: every route and event × every kind of caller.

A route or event the table does not list fails here, so nothing new ships unlisted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling import authz
from signaling.keys import API
from signaling.sockets.namespace import EVENTS
from tests.signaling.harness import (
    PASSWORD,
    Client,
    Server,
    connect,
    login,
    make_user,
    running_server,
)

pytestmark = pytest.mark.slow

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "LoginIn": {"username": "nobody-here", "password": "wrong-password"},
    "CaseIn": {"number": "AUTHZ-{n}", "dispute_type": "debt"},
    "SessionIn": {"title": "authz"},
    "InviteIn": {"role": "party", "side": "B"},
    "CorrectionIn": {"text": "更正后的文字"},
    "ExpertIn": {"user_id": "0" * 32, "domains": ["legal"]},
    "ExpertPatch": {"region": "上海"},
    "ExpertSelfPatch": {"region": "上海"},
    "RatingIn": {"stars": 4},
    "SendCopyIn": {"party_id": "P1", "channel": "sms"},
}


class World:
    """One office with a case, a session and an invite, and callers of every kind."""

    def __init__(self, srv: Server) -> None:
        self.srv = srv
        self.tokens: dict[str, str | None] = {}
        self.ids: dict[str, str] = {}


async def build_world(srv: Server, http: aiohttp.ClientSession) -> World:
    w = World(srv)
    for name, role in (("med", "mediator"), ("clerk", "clerk"), ("adm", "admin"),
                       ("exp", "expert")):
        await make_user(srv, name, role)
    await make_user(srv, "outsider", "mediator", office="另一个司法所")
    kinds = {authz.MEDIATOR: "med", authz.CLERK: "clerk", authz.ADMIN: "adm",
             authz.EXPERT_USER: "exp", authz.OTHER_OFFICE: "outsider"}
    for kind, user in kinds.items():
        w.tokens[kind] = (await login(srv, http, user)).token
    w.tokens[authz.ANON] = None
    med = await login(srv, http, "med")
    w.ids["case_id"], w.ids["session_id"] = await med.new_session()
    w.ids["invite_id"] = (await med.invite(w.ids["session_id"]))["id"]
    w.ids["utterance_id"] = await stored_utterance(srv, w.ids["session_id"])
    from tests.agreements.room_helpers import stored_document

    w.ids.update(await stored_document(srv, w.ids["case_id"], w.ids["session_id"]))
    # An expert profile (for the exp user) and one call from the mediator in the room.
    async with http.get(srv.url + "/api/v1/auth/me",
                        headers={"Authorization": f"Bearer {w.tokens[authz.EXPERT_USER]}"}) as r:
        exp_user = (await r.json())["id"]
    async with http.post(srv.url + "/api/v1/experts", json={"user_id": exp_user,
                                                            "domains": ["legal"]},
                         headers={"Authorization": f"Bearer {w.tokens[authz.ADMIN]}"}) as r:
        assert r.status == 201, await r.text()
        w.ids["expert_id"] = (await r.json())["id"]
    room_med = await connect(srv.url, {"token": med.token, "session_id": w.ids["session_id"]})
    ack = await room_med.call("expert_call", {"domain": "legal", "scope": "joint"})
    assert ack["ok"], ack
    w.ids["call_id"] = ack["call"]["call_id"]
    async with http.post(srv.url + f"/api/v1/sessions/{w.ids['session_id']}/evidence",
                         data=PNG, headers={"Authorization": f"Bearer {med.token}"}) as r:
        assert r.status == 201, await r.text()
        w.ids["evidence_id"] = (await r.json())["id"]
    return w


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def stored_utterance(srv: Server, session_id: str) -> str:
    from media.tap import Speaker
    from transcription.store import store_utterance
    from transcription.utterance import Caption

    c = Caption(utterance_id="0f8fad5b-d9cb-469f-a165-70867728950e", session_id=session_id,
                speaker=Speaker("p" * 32, "张三", "party"), caucus_id=None, start=1.0, end=2.0,
                text="我同意", final=True, model="base", confidence=0.9, language="zh")
    async with srv.services.db.session() as db:
        await store_utterance(db, c)
    return c.utterance_id


async def test_every_served_route_is_in_the_table(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        declared = {(r.method, r.path) for r in srv.app[API].routes}
    assert declared - set(authz.HTTP) == set(), "routes missing from signaling/authz.py"
    assert set(authz.HTTP) - declared == set(), "stale entries in signaling/authz.py"


def test_every_event_is_in_the_table() -> None:
    assert set(EVENTS) - set(authz.EVENTS) == set(), "events missing from signaling/authz.py"
    assert set(authz.EVENTS) - set(EVENTS) == set(), "stale entries in signaling/authz.py"


async def test_every_route_answers_every_caller_as_the_table_says(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        w = await build_world(srv, http)
        n = 0
        mismatches = []
        for route in srv.app[API].routes:
            rule = authz.HTTP.get((route.method, route.path))
            if rule is None or route.path.endswith("/auth/logout"):
                # Unlisted routes fail test_every_served_route_is_in_the_table.
                continue  # checked last: it ends the login
            for caller in authz.HTTP_CALLERS:
                n += 1
                path = route.path.format(**w.ids)
                body = None
                if route.body is not None:
                    body = {k: (v.format(n=n) if isinstance(v, str) else v)
                            for k, v in SAMPLE_BODIES[route.body.__name__].items()}
                headers = {}
                if w.tokens[caller]:
                    headers["Authorization"] = f"Bearer {w.tokens[caller]}"
                async with http.request(route.method, srv.url + path, json=body,
                                        headers=headers) as r:
                    status = r.status
                    data = await r.json(content_type=None) if r.content_type.endswith(
                        "json") else {}
                code = (data or {}).get("error", {}).get("code") if isinstance(data, dict) \
                    else None
                refused = status in (401, 403, 404) and code in authz.REFUSAL_CODES
                if route.path.endswith("/auth/login"):
                    refused = False  # anyone may try; wrong credentials are not a refusal
                expected_allowed = caller in rule.allowed
                if expected_allowed == refused:
                    mismatches.append((route.method, route.path, caller, status, code))
        assert not mismatches


async def seat_of_every_kind(srv: Server, http: aiohttp.ClientSession
                             ) -> tuple[dict[str, Client], dict[str, str]]:
    await make_user(srv, "med")
    await make_user(srv, "clerk", "clerk")
    med_staff = await login(srv, http, "med")
    _, session_id = await med_staff.new_session()
    med = await connect(srv.url, {"token": med_staff.token, "session_id": session_id})
    clerk = await connect(srv.url, {"token": (await login(srv, http, "clerk")).token,
                                    "session_id": session_id})

    async def guest(role: str, name: str, admit: bool) -> Client:
        inv = await med_staff.invite(session_id, role=role)
        c = await connect(srv.url, {"invite": inv["token"], "name": name, "consent": True})
        if admit:
            assert (await med.call("admit", {"participant_id": c.pid}))["ok"]
            await c.wait_for("admitted")
        return c

    seats = {
        authz.S_MEDIATOR: med,
        authz.S_CLERK: clerk,
        authz.S_PARTY: await guest("party", "甲", True),
        authz.S_LOBBY: await guest("party", "乙", False),
        authz.S_OBSERVER: await guest("observer", "观察员", True),
    }
    target = await guest("party", "目标", True)
    cid = (await med.call("caucus_create", {"name": "c", "members": []}))["caucus_id"]
    return seats, {"target": target.pid, "caucus": cid}


def sample_event(event: str, ids: dict[str, str]) -> dict[str, Any]:
    t, c = ids["target"], ids["caucus"]
    return {
        "admit": {"participant_id": t}, "deny": {"participant_id": t},
        "send_back": {"participant_id": t}, "remove": {"participant_id": t},
        "mute": {"participant_id": t, "source": "audio", "muted": True},
        "request_mute": {"participant_id": t}, "shared_device": {"participant_id": t, "people": 2},
        "caucus_create": {"name": "x"}, "caucus_move": {"participant_id": t, "caucus_id": c},
        "caucus_end": {"caucus_id": c}, "chat": {"text": "hello"}, "hand": {"raised": True},
        "signal": {"type": "candidate", "candidate": {}},
        "evidence_show": {"evidence_id": "0" * 32},
        "expert_call": {"domain": "property", "scope": "joint"},
        "expert_call_end": {"call_id": "0" * 32}, "expert_call_state": {"call_id": "0" * 32},
        "draft_create": {"kind": "record", "data": {}},
        "draft_edit": {"draft_id": Z, "base_version": 1, "data": {}},
        "draft_comment": {"draft_id": Z, "version": 1, "text": "x"},
        "draft_get": {"draft_id": Z}, "signing_open": {"draft_id": Z},
        "draft_seal": {"draft_id": Z}, "signing_send_code": {"ceremony_id": Z},
        "sign": {"ceremony_id": Z, "code": "000000", "version_digest": "0" * 64,
                 "typed_name": "x"},
        "party_details_get": {"draft_id": Z},
        "draft_preview": {"kind": "record", "data": {}},
        "party_confirm": {"draft_id": Z, "version": 1, "party_id": "P1"},
    }.get(event, {})


Z = "0" * 32


# Destructive events run last, once, so that they do not spoil the others.
LAST = ("send_back", "remove", "deny", "end_session", "leave")


async def test_every_event_answers_every_seat_as_the_table_says(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        seats, ids = await seat_of_every_kind(srv, http)
        mismatches = []
        order = [e for e in EVENTS if e not in LAST] + [e for e in LAST if e in EVENTS]
        for event in order:
            rule = authz.EVENTS.get(event)
            if rule is None:
                continue  # test_every_event_is_in_the_table fails for it
            callers = [c for c in authz.SOCKET_CALLERS if c != authz.S_MEDIATOR]
            callers.append(authz.S_MEDIATOR)  # the mediator acts last: its success changes state
            for caller in callers:
                client = seats[caller]
                if not client.sio.connected:
                    continue
                ack = await client.call(event, sample_event(event, ids))
                refused = not ack["ok"] and ack["error"]["code"] in authz.EVENT_REFUSAL_CODES
                if (caller in rule.allowed) == refused:
                    mismatches.append((event, caller, ack))
        assert not mismatches
        assert PASSWORD  # keep the import honest
