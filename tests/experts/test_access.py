"""Who is refused: every expert route and event, for anonymous callers, parties, other
roles and another office's staff. Nothing ships without a row here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from experts.console import CONSOLE_EVENTS
from experts.http import ROOM_EVENTS, add_routes
from signaling.api.registry import ApiRouter
from tests.experts.kit import OTHER_OFFICE, console_refused, expert_server, office, open_console
from tests.experts.test_ledger import serve
from tests.signaling.harness import Staff, connect, login, make_user

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow

# (method, path) → expected status per caller. "ok" is 200/201; numbers are exact.
# Callers: anon, other_med (mediator of another office), other_admin, mediator, clerk,
# expert (the profile's own expert), peer (another expert of the same office), admin.
TABLE: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/expert-domains"): {"anon": 401},
    ("GET", "/api/v1/experts"): {"anon": 401, "expert": 403, "peer": 403},
    # Administrators get past the door and fail on the made-up user id (400).
    ("POST", "/api/v1/experts"): {"anon": 401, "other_med": 403, "other_admin": 400,
                                  "mediator": 403, "clerk": 403, "expert": 403, "peer": 403,
                                  "admin": 400},
    ("GET", "/api/v1/experts/me"): {"anon": 401, "other_med": 403, "other_admin": 403,
                                    "mediator": 403, "clerk": 403, "admin": 403},
    ("PATCH", "/api/v1/experts/me"): {"anon": 401, "other_med": 403, "other_admin": 403,
                                      "mediator": 403, "clerk": 403, "admin": 403},
    ("GET", "/api/v1/experts/{expert_id}"): {"anon": 401, "other_med": 404,
                                             "other_admin": 404, "peer": 404},
    ("PATCH", "/api/v1/experts/{expert_id}"): {"anon": 401, "other_med": 403,
                                               "other_admin": 404, "mediator": 403,
                                               "clerk": 403, "expert": 403, "peer": 403},
    ("GET", "/api/v1/experts/{expert_id}/ledger"): {"anon": 401, "other_med": 404,
                                                    "other_admin": 404, "mediator": 403,
                                                    "clerk": 403, "peer": 404},
    ("GET", "/api/v1/experts/{expert_id}/ledger.csv"): {"anon": 401, "other_med": 404,
                                                        "other_admin": 404, "mediator": 403,
                                                        "clerk": 403, "peer": 404},
    ("GET", "/api/v1/expert-ledger.csv"): {"anon": 401, "other_med": 403, "mediator": 403,
                                           "clerk": 403, "expert": 403, "peer": 403},
    ("GET", "/api/v1/sessions/{session_id}/expert-calls"): {
        "anon": 401, "other_med": 404, "other_admin": 404, "expert": 403, "peer": 403},
    ("GET", "/api/v1/expert-calls/{call_id}"): {"anon": 401, "other_med": 404,
                                                "other_admin": 404, "expert": 403,
                                                "peer": 403},
    ("POST", "/api/v1/expert-calls/{call_id}/rating"): {
        "anon": 401, "other_med": 404, "other_admin": 404, "clerk": 403, "expert": 403,
        "peer": 403, "admin": 409},  # the mediator rated first: the admin's is one too many
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/experts"): {"user_id": "0" * 32, "domains": ["legal"]},
    ("PATCH", "/api/v1/experts/me"): {"region": "上海"},
    ("PATCH", "/api/v1/experts/{expert_id}"): {"region": "上海"},
    ("POST", "/api/v1/expert-calls/{call_id}/rating"): {"stars": 4},
}


def test_every_expert_route_has_a_row_in_the_table() -> None:
    api = ApiRouter()
    add_routes(api)
    assert {(r.method, r.path) for r in api.routes} == set(TABLE)


async def test_every_route_refuses_the_wrong_callers(database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2)
        await o.mediator_in()
        call_id = await serve(o, 0)
        await make_user(srv, "clerk", role="clerk")
        await make_user(srv, "zhao", office=OTHER_OFFICE)
        await make_user(srv, "bossb", role="admin", office=OTHER_OFFICE)
        who: dict[str, Staff | None] = {
            "anon": None, "other_med": await login(srv, http, "zhao"),
            "other_admin": await login(srv, http, "bossb"), "mediator": o.mediator,
            "clerk": await login(srv, http, "clerk"), "expert": o.experts[0],
            "peer": o.experts[1], "admin": o.admin}
        ids = {"expert_id": o.profiles[0]["id"], "session_id": o.session_id,
               "call_id": call_id}
        for (method, template), expected in TABLE.items():
            path = template.format(**ids)
            for name, staff in who.items():
                headers = {"Authorization": f"Bearer {staff.token}"} if staff else {}
                async with http.request(method, srv.url + path, headers=headers,
                                        json=BODIES.get((method, template))) as r:
                    status = r.status
                want = expected.get(name)
                if want is None:
                    assert status < 400, (method, template, name, status)
                else:
                    assert status == want, (method, template, name, status)
        # Another office sees nothing of this one, even where the route answers.
        st, found = await who["other_med"].call("GET", "/api/v1/experts")  # type: ignore[union-attr]
        assert st == 200 and found["items"] == []


async def test_only_the_room_mediator_may_use_the_expert_events(database_url: str,
                                                                tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        party = await o.party("A", "张三")
        ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        call_id = ack["call"]["call_id"]
        payloads = {"expert_call": {"domain": "property"},
                    "expert_call_end": {"call_id": call_id},
                    "expert_call_state": {"call_id": call_id}}
        assert set(payloads) == set(ROOM_EVENTS)
        for event, body in payloads.items():
            ack = await party.call(event, body)
            assert ack["error"]["code"] == "not_room_admin", (event, ack)
            bad = await med.call(event, {**body, "extra": 1})
            assert bad["error"]["code"] == "invalid_payload", (event, bad)
        assert (await med.call("expert_call", {"domain": "物业"}))["error"]["code"] == \
            "invalid_payload"
        # A mediator of another session (another office) cannot touch this call.
        await make_user(srv, "zhao", office=OTHER_OFFICE)
        zhao = await login(srv, http, "zhao")
        _, other_session = await zhao.new_session("(2026)红调字第9号")
        other = await connect(srv.url, {"token": zhao.token, "session_id": other_session})
        for event in ("expert_call_end", "expert_call_state"):
            ack = await other.call(event, {"call_id": call_id})
            assert ack["error"]["code"] == "call_not_found", ack
        st, state = await o.mediator.call("GET", f"/api/v1/expert-calls/{call_id}")
        assert state["state"] == "ringing"


async def test_the_console_is_for_experts_only(database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2)
        med = await o.mediator_in()
        inv = await o.mediator.invite(o.session_id, side="A")
        assert (await console_refused(srv.url, {}))["code"] == "login_required"
        assert (await console_refused(srv.url, {"token": "forged"}))["code"] == "login_required"
        assert (await console_refused(srv.url, {"token": inv["token"]}))["code"] == \
            "login_required"
        assert (await console_refused(srv.url, {"token": o.mediator.token}))["code"] == \
            "not_expert"
        # An expert of another office never sees, nor can take, this office's calls.
        await make_user(srv, "eb", role="expert", office=OTHER_OFFICE)
        await make_user(srv, "bossb", role="admin", office=OTHER_OFFICE)
        eb, bossb = await login(srv, http, "eb"), await login(srv, http, "bossb")
        st, _ = await bossb.call("POST", "/api/v1/experts", {"user_id": eb.user["id"],
                                                             "domains": ["property"]})
        assert st == 201
        foreign = await open_console(srv.url, eb.token)
        mine = await open_console(srv.url, o.experts[0].token)
        ack = await med.call("expert_call", {"domain": "property", "scope": "joint",
                                             "expert_id": o.profiles[0]["id"]})
        call_id = ack["call"]["call_id"]
        await mine.wait_for("ring")
        assert foreign.received("ring") == []
        assert (await foreign.call("accept", {"call_id": call_id}))["error"]["code"] == \
            "call_not_found"
        # A colleague who was not rung for this call cannot answer it.
        peer = await open_console(srv.url, o.experts[1].token)
        assert (await peer.call("accept", {"call_id": call_id}))["error"]["code"] == "not_rung"
        assert (await peer.call("decline", {"call_id": call_id}))["error"]["code"] == "not_rung"
        assert (await peer.call("hang_up", {"call_id": call_id}))["error"]["code"] == \
            "call_not_found"
        for event in CONSOLE_EVENTS:
            bad = await mine.call(event, {"call_id": "not-an-id"})
            assert bad["error"]["code"] == "invalid_payload"
        assert (await mine.call("teleport", {}))["error"]["code"] == "unknown_event"
        # A profile taken off the list stops working at once.
        st, _ = await o.admin.call("PATCH", f"/api/v1/experts/{o.profiles[0]['id']}",
                                   {"active": False})
        assert (await mine.call("accept", {"call_id": call_id}))["error"]["code"] == \
            "not_expert"
        assert (await console_refused(srv.url, {"token": o.experts[0].token}))["code"] == \
            "not_expert"
