"""Scoped access: the winner enters exactly the space asked for, cannot leave it, and the
grant dies with the call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from experts import config
from experts.tables import ExpertVisit
from tests.experts.kit import Console, Office, expert_server, office, open_console
from tests.signaling.harness import Client, Server, connect
from tests.signaling.test_join_flow import refused

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow


async def called_in(o: Office, con: Console, **call: Any) -> tuple[str, dict[str, Any]]:
    assert o.med is not None
    ack = await o.med.call("expert_call", {"domain": "property", **call})
    assert ack["ok"], ack
    call_id = ack["call"]["call_id"]
    await con.wait_for("ring", lambda d: d["call_id"] == call_id)
    acc = await con.call("accept", {"call_id": call_id})
    assert acc["ok"], acc
    return call_id, acc["grant"]


async def joined(srv: Server, o: Office, call_id: str, grant: dict[str, Any]) -> Client:
    assert o.med is not None
    ex = await connect(srv.url, {"resume": grant["token"]})
    await o.med.wait_for("expert_call_state", lambda d: d["call_id"] == call_id
                         and d["state"] == "joined")
    return ex


async def test_an_expert_in_a_consultation_hears_only_the_mediator_and_cannot_leave_it(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        a = await o.party("A", "张三")
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con, scope="consultation")
        cid = grant["caucus_id"]
        ex = await joined(srv, o, call_id, grant)
        assert ex.welcome["grants"]["caucus_scope"] == cid
        lay = ex.welcome["layout"]
        assert [c["members"] for c in lay["caucuses"] if c["id"] == cid] == [[med.pid, ex.pid]]
        # The party, in the joint session, is not heard in the consultation, and back.
        assert (await a.call("chat", {"text": "我家天花板漏水"}))["ok"]
        assert (await ex.call("chat", {"text": "需要看现场照片"}))["ok"]
        await med.wait_for("chat", lambda d: d["text"] == "需要看现场照片")
        assert [m["text"] for m in ex.received("chat")] == ["需要看现场照片"]
        assert "需要看现场照片" not in [m["text"] for m in a.received("chat")]
        # Neither the mediator nor the expert can take the expert out of the consultation.
        ack = await med.call("caucus_move", {"participant_id": ex.pid, "caucus_id": None})
        assert ack["error"]["code"] == "outside_scope"
        other = await med.call("caucus_create", {"name": "甲方", "members": [a.pid]})
        ack = await med.call("caucus_move", {"participant_id": ex.pid,
                                             "caucus_id": other["caucus_id"]})
        assert ack["error"]["code"] == "outside_scope"
        ack = await ex.call("caucus_move", {"participant_id": ex.pid, "caucus_id": None})
        assert ack["error"]["code"] == "not_room_admin"
        ack = await ex.call("expert_call", {"domain": "legal"})
        assert ack["error"]["code"] == "not_room_admin"
        # The expert's own login does not open the joint session either.
        data = await refused(srv.url, {"token": o.experts[0].token, "session_id": o.session_id})
        assert data["code"] == "role_not_allowed"
        # The mediator ends the consultation: the expert is removed and the grant is dead.
        ack = await med.call("expert_call_end", {"call_id": call_id})
        assert ack["ok"] and ack["call"]["state"] == "ended", ack
        await ex.wait_for("removed")
        await con.wait_for("call_ended", lambda d: d["reason"] == "ended_by_mediator")
        room = await srv.services.rooms.get(o.session_id)
        assert cid not in room.caucuses and room.member(med.pid).caucus_id is None
        assert (await refused(srv.url, {"resume": grant["token"]}))["code"] == "resume_invalid"
        async with srv.services.db.session() as db:
            visit = (await db.execute(select(ExpertVisit))).scalar_one()
        assert visit.left_at is not None and visit.minutes >= 1


async def test_closing_the_consultation_caucus_ends_the_call_and_removes_the_expert(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con)
        ex = await joined(srv, o, call_id, grant)
        assert (await med.call("caucus_end", {"caucus_id": grant["caucus_id"]}))["ok"]
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "ended")
        assert end["end_reason"] == "consultation_ended"
        await ex.wait_for("removed")
        assert (await refused(srv.url, {"resume": grant["token"]}))["code"] == "resume_invalid"


async def test_a_grant_expires_with_the_call_and_is_refused_afterwards(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "JOIN_TIMEOUT_S", 0.3)
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con)
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "expired")
        assert end["end_reason"] == "not_joined"
        assert (await refused(srv.url, {"resume": grant["token"]}))["code"] == "resume_invalid"
        room = await srv.services.rooms.get(o.session_id)
        assert room.caucuses == {}  # the consultation closed with the call
        async with srv.services.db.session() as db:
            assert (await db.execute(select(ExpertVisit))).first() is None


async def test_an_expert_who_leaves_ends_the_call_and_cannot_come_back(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con, scope="joint")
        ex = await joined(srv, o, call_id, grant)
        assert (await ex.call("leave"))["ok"]
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "ended")
        assert end["end_reason"] == "expert_left"
        assert (await refused(srv.url, {"resume": grant["token"]}))["code"] == "resume_invalid"
        # Hanging up from the console after the end is a clear refusal.
        ack = await con.call("hang_up", {"call_id": call_id})
        assert ack["error"]["code"] == "call_ended"


async def test_an_expert_called_into_a_caucus_stays_in_that_caucus(database_url: str,
                                                                  tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        a = await o.party("A", "张三")
        b = await o.party("B", "李四")
        side_a = (await med.call("caucus_create", {"name": "甲方", "members": [a.pid]}))
        side_b = (await med.call("caucus_create", {"name": "乙方", "members": [b.pid]}))
        con = await open_console(srv.url, o.experts[0].token)
        bad = await med.call("expert_call", {"domain": "property", "scope": "caucus"})
        assert bad["error"]["code"] == "caucus_not_found"
        call_id, grant = await called_in(o, con, scope="caucus",
                                         caucus_id=side_a["caucus_id"])
        ex = await joined(srv, o, call_id, grant)
        assert grant["caucus_id"] == side_a["caucus_id"]
        assert (await a.call("chat", {"text": "请帮我看看"}))["ok"]
        await ex.wait_for("chat", lambda d: d["text"] == "请帮我看看")
        assert (await b.call("chat", {"text": "乙方的话"}))["ok"]
        for target in (side_b["caucus_id"], None):
            ack = await med.call("caucus_move", {"participant_id": ex.pid, "caucus_id": target})
            assert ack["error"]["code"] == "outside_scope"
        assert "乙方的话" not in [m["text"] for m in ex.received("chat")]
        # Ending the call leaves the caucus itself to the mediator: only the expert goes.
        assert (await med.call("expert_call_end", {"call_id": call_id}))["ok"]
        await ex.wait_for("removed")
        room = await srv.services.rooms.get(o.session_id)
        assert side_a["caucus_id"] in room.caucuses and room.member(a.pid).caucus_id == \
            side_a["caucus_id"]


async def test_a_sign_language_expert_called_to_the_joint_session_is_an_interpreter(
        database_url: str, tmp_path: Path) -> None:
    """Issue 17 (4): an interpreter joins by expert call too. Called into the joint session,
    a sign-language expert takes an interpreter's seat, which the mediator attaches to the
    deaf party; they follow that party into a caucus and hear nothing of another one."""
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1, domains=["sign_language"])
        med = await o.mediator_in()
        a = await o.party("A", "赵聪")
        b = await o.party("B", "孙强")
        con = await open_console(srv.url, o.experts[0].token)
        ack = await med.call("expert_call", {"domain": "sign_language", "scope": "joint"})
        assert ack["ok"], ack
        call_id = ack["call"]["call_id"]
        await con.wait_for("ring", lambda d: d["call_id"] == call_id)
        acc = await con.call("accept", {"call_id": call_id})
        assert acc["ok"], acc
        ex = await joined(srv, o, call_id, acc["grant"])
        assert ex.welcome["role"] == "interpreter"
        room = await srv.services.rooms.get(o.session_id)
        seat = room.member(ex.pid)
        assert (seat.role, seat.interpretation, seat.caucus_id) == ("interpreter", "sign", None)
        assert seat.grants.caucus_scope is None
        ack = await med.call("interpreter_attach", {"participant_id": ex.pid,
                                                    "interprets_for": a.pid})
        assert ack["ok"], ack
        side_a = await med.call("caucus_create", {"name": "申请人", "members": [a.pid]})
        assert side_a["ok"], side_a
        room = await srv.services.rooms.get(o.session_id)
        assert room.member(ex.pid).caucus_id == side_a["caucus_id"]
        side_b = await med.call("caucus_create", {"name": "被申请人", "members": [b.pid]})
        assert (await b.call("chat", {"text": "被申请人的话"}))["ok"]
        assert (await a.call("chat", {"text": "请翻译"}))["ok"]
        await ex.wait_for("chat", lambda d: d["text"] == "请翻译")
        assert "被申请人的话" not in [m["text"] for m in ex.received("chat")]
        assert side_b["ok"]


async def test_ending_the_session_ends_the_expert_call(database_url: str,
                                                      tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con, scope="joint")
        await joined(srv, o, call_id, grant)
        assert (await med.call("end_session"))["ok"]
        await con.wait_for("call_ended", lambda d: d["reason"] == "session_ended")
