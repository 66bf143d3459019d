"""Named sides per case, caucuses the mediator shapes (any members, a name, a time limit,
extend, end) and interpreters attached to the party they interpret for.

The privacy of every shape is proven by the state machine (test_privacy_invariant.py,
three sides, arbitrary members) and the attack tests; here: the model, the API and who is
refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling.grants import grants_for_role
from signaling.rooms.room import Member, Room
from tests.signaling.harness import Staff, login, make_user, running_server, settled
from tests.signaling.test_join_flow import mediator_in, party


def _member(pid: str, role: str = "party", side: str | None = "A") -> Member:
    return Member(participant_id=pid, name=pid, role=role, side=side,
                  grants=grants_for_role(role), state="room")


def three_sides_room() -> Room:
    room = Room(session_id="s", sides={"A": "申请人", "B": "被申请人", "C": "第三人"})
    for m in (_member("med", "mediator", None), _member("a"), _member("b", side="B"),
              _member("c", side="C"), _member("i", "interpreter", "A")):
        room.seat(m)
    room.members["i"].interpretation = "sign"
    return room


# -- the model ----------------------------------------------------------------------------

def test_an_interpreter_follows_their_party_into_a_caucus_and_out_again() -> None:
    room = three_sides_room()
    room.attach_interpreter("i", "a")
    k = room.create_caucus("背靠背", limit_s=600)
    room.move("a", k.id)
    assert room.space_of("i") == k.id, "the interpreter goes where their party goes"
    room.move("b", k.id)
    assert set(room.audience(k.id)) == {"a", "b", "i"}
    room.move("a", None)
    assert room.space_of("i") is None, "and leaves with them"
    room.move("a", k.id)
    room.end_caucus(k.id)
    assert room.space_of("a") is None and room.space_of("i") is None
    # Sent back to the lobby from a caucus: the interpreter returns to the joint session.
    k2 = room.create_caucus("再谈")
    room.move("a", k2.id)
    room.send_back("a")
    assert room.space_of("i") is None
    # Detached, they stay where they are.
    room.admit("a")
    room.attach_interpreter("i", None)
    room.move("a", k2.id)
    assert room.space_of("i") is None


def test_only_an_interpreter_is_attached_and_only_to_a_party_agent_or_expert() -> None:
    room = three_sides_room()
    with pytest.raises(Exception) as e:
        room.attach_interpreter("a", "b")
    assert getattr(e.value, "code", None) == "not_an_interpreter"
    with pytest.raises(Exception) as e:
        room.attach_interpreter("i", "med")
    assert getattr(e.value, "code", None) == "cannot_interpret_for"


def test_a_caucus_timer_is_extended_from_its_limit_or_from_now() -> None:
    room = three_sides_room()
    k = room.create_caucus("限时", limit_s=300)
    assert room.extend_caucus(k.id, 120).limit_s == 420
    k2 = room.create_caucus("不限时")
    k2.created_at = time.time() - 100
    assert room.extend_caucus(k2.id, 60).limit_s in (160, 161)
    lay = room.layout(for_admin=True)
    by_id = {c["id"]: c for c in lay["caucuses"]}
    assert by_id[k.id]["limit_s"] == 420 and by_id[k2.id]["elapsed_s"] >= 100
    assert lay["sides"] == [{"key": "A", "name": "申请人"}, {"key": "B", "name": "被申请人"},
                            {"key": "C", "name": "第三人"}]


def test_an_interpreters_captions_are_labelled_and_go_where_any_caption_goes() -> None:
    from types import SimpleNamespace

    from transcription.captions import caption_recipients, label_interpreted

    room = three_sides_room()
    room.attach_interpreter("i", "a")
    k = room.create_caucus("甲方")
    room.move("a", k.id)
    event = label_interpreted(room, {"text": "我同意"}, "i")
    assert event["interpreted"] == {"kind": "sign", "for_id": "a", "for_name": "a"}
    assert label_interpreted(room, {"text": "我同意"}, "a") == {"text": "我同意"}
    caption = SimpleNamespace(caucus_id=k.id, heard_by=("a", "b", "c", "med"),
                              speaker=SimpleNamespace(participant_id="i"))
    assert set(caption_recipients(room, caption)) == {"a", "i"}, \
        "only the caucus's members, whatever the caption says it was heard by"


def test_room_state_stored_before_named_sides_still_loads() -> None:
    old = three_sides_room().to_dict()
    old.pop("sides")
    for m in old["members"].values():
        m.pop("interprets_for")
        m.pop("interpretation")
    old["caucuses"] = {"k": {"id": "k", "name": "甲方", "created_at": 1.0}}
    room = Room.from_dict(old)
    assert room.sides == {} and room.caucuses["k"].limit_s is None
    assert room.members["i"].interprets_for is None


# -- the API and the room namespace -------------------------------------------------------

async def _case(staff: Staff) -> tuple[str, str]:
    return await staff.new_session("(2026)三方调字第1号")


async def test_sides_are_named_per_case_and_old_payloads_keep_their_meaning(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "zhou", role="clerk")
        staff, clerk = await login(srv, http, "li"), await login(srv, http, "zhou")
        case_id, session_id = await _case(staff)
        st, got = await staff.call("GET", f"/api/v1/cases/{case_id}/sides")
        assert st == 200 and got["items"] == [{"key": "A", "name": "申请人"},
                                              {"key": "B", "name": "被申请人"}]
        # Side C does not exist yet: a link for it is refused, nothing stored.
        st, err = await staff.call("POST", f"/api/v1/sessions/{session_id}/invites",
                                   {"role": "party", "side": "C"})
        assert st == 400 and err["error"]["code"] == "side_not_found"
        st, err = await staff.call("POST", f"/api/v1/sessions/{session_id}/invites",
                                   {"role": "party", "side": "Z"})
        assert st == 400 and err["error"]["code"] == "invalid_payload"
        st, c = await staff.call("POST", f"/api/v1/cases/{case_id}/sides", {"name": "第三人"})
        assert st == 201 and c == {"key": "C", "name": "第三人"}
        st, err = await staff.call("POST", f"/api/v1/cases/{case_id}/sides", {"name": "第三人"})
        assert st == 409 and err["error"]["code"] == "side_name_taken"
        # A clerk reads, never changes.
        st, err = await clerk.call("POST", f"/api/v1/cases/{case_id}/sides", {"name": "案外人"})
        assert st == 403 and err["error"]["code"] == "role_not_allowed"
        st, err = await clerk.call("PATCH", f"/api/v1/cases/{case_id}/sides/A", {"name": "甲"})
        assert st == 403
        st, got = await clerk.call("GET", f"/api/v1/cases/{case_id}/sides")
        assert st == 200 and [s["key"] for s in got["items"]] == ["A", "B", "C"]
        st, renamed = await staff.call("PATCH", f"/api/v1/cases/{case_id}/sides/B",
                                       {"name": "被申请人(物业)"})
        assert st == 200 and renamed["name"] == "被申请人(物业)"
        # Old payloads: "A" and "B" still name the applicant and the respondent.
        inv_a = await staff.invite(session_id, side="A")
        inv_c = await staff.invite(session_id, side="C")
        assert inv_a["side"] == "A" and inv_c["side"] == "C"
        med = await mediator_in(srv, staff, session_id)
        c3 = await party(srv, inv_c, "王五")
        assert c3.welcome["side"] == "C"
        assert (await med.call("admit", {"participant_id": c3.pid}))["ok"]
        lay = (await c3.wait_for("admitted"))["layout"]
        assert {s["key"]: s["name"] for s in lay["sides"]} == {
            "A": "申请人", "B": "被申请人(物业)", "C": "第三人"}
        st, state = await staff.call("GET", f"/api/v1/sessions/{session_id}")
        assert [s["key"] for s in state["sides"]] == ["A", "B", "C"]
        # A rename reaches the live room at once.
        st, _ = await staff.call("PATCH", f"/api/v1/cases/{case_id}/sides/C",
                                 {"name": "第三人(房东)"})
        assert st == 200
        await c3.wait_for("layout", lambda d: {s["name"] for s in d["sides"]} >= {"第三人(房东)"})
        for cl in (c3, med):
            await cl.close()


async def _three_sides(srv: Any, http: aiohttp.ClientSession) -> dict[str, Any]:
    await make_user(srv, "li")
    staff = await login(srv, http, "li")
    case_id, session_id = await _case(staff)
    st, _ = await staff.call("POST", f"/api/v1/cases/{case_id}/sides", {"name": "第三人"})
    assert st == 201
    med = await mediator_in(srv, staff, session_id)
    a = await party(srv, await staff.invite(session_id, side="A"), "张三")
    b = await party(srv, await staff.invite(session_id, side="B"), "李四")
    c = await party(srv, await staff.invite(session_id, side="C"), "王五")
    i = await party(srv, await staff.invite(session_id, role="interpreter", side="A",
                                            interpretation="sign"), "手语翻译赵")
    for p in (a, b, c, i):
        assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
        await p.wait_for("admitted")
    return {"staff": staff, "session_id": session_id, "med": med, "a": a, "b": b, "c": c,
            "i": i}


async def test_a_caucus_of_two_sides_with_a_limit_and_an_interpreter_following(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        w = await _three_sides(srv, http)
        med, a, b, c, i = w["med"], w["a"], w["b"], w["c"], w["i"]
        assert i.welcome["role"] == "interpreter"
        assert (await med.call("interpreter_attach", {"participant_id": i.pid,
                                                      "interprets_for": a.pid}))["ok"]
        lay = await a.wait_for("layout", lambda d: any(
            p.get("interprets_for") == a.pid for p in d["participants"]))
        assert [p["interpretation"] for p in lay["participants"] if p["participant_id"] == i.pid
                ] == ["sign"]
        ack = await med.call("caucus_create", {"name": "甲乙背靠背", "members": [a.pid, b.pid],
                                               "limit_minutes": 10})
        assert ack["ok"], ack
        k = ack["caucus_id"]
        lay = await med.wait_for("layout", lambda d: any(x["id"] == k for x in d["caucuses"]))
        kk = next(x for x in lay["caucuses"] if x["id"] == k)
        assert set(kk["members"]) == {a.pid, b.pid, i.pid}, "the interpreter followed"
        assert kk["limit_s"] == 600 and kk["name"] == "甲乙背靠背"
        assert (await med.call("caucus_extend", {"caucus_id": k, "minutes": 5}))["limit_s"] == 900
        await med.wait_for("layout", lambda d: [x["limit_s"] for x in d["caucuses"]] == [900])
        assert (await a.call("chat", {"text": "甲乙之间的底线"}))["ok"]
        await b.wait_for("chat", lambda d: d["text"] == "甲乙之间的底线")
        await i.wait_for("chat", lambda d: d["text"] == "甲乙之间的底线")
        await settled(a, b, c, i, med)
        assert not c.received("chat"), "the third side reads nothing of the caucus"
        assert not med.received("chat"), "the mediator is not in it"
        assert (await med.call("caucus_end", {"caucus_id": k}))["ok"]
        await a.wait_for("layout", lambda d: not d["caucuses"]
                         and {a.pid, b.pid, i.pid} <= set(d["joint"]))
        for cl in (a, b, c, i, med):
            await cl.close()


async def test_a_party_cannot_shape_caucuses_or_attach_interpreters(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        w = await _three_sides(srv, http)
        med, a, b, c, i = w["med"], w["a"], w["b"], w["c"], w["i"]
        k = (await med.call("caucus_create", {"name": "甲", "members": [a.pid]}))["caucus_id"]
        for who in (a, b, c, i):
            for event, body in (
                    ("caucus_create", {"name": "私设", "members": [who.pid, c.pid]}),
                    ("caucus_extend", {"caucus_id": k, "minutes": 30}),
                    ("caucus_end", {"caucus_id": k}),
                    ("caucus_move", {"participant_id": who.pid, "caucus_id": k}),
                    ("interpreter_attach", {"participant_id": i.pid,
                                            "interprets_for": who.pid})):
                ack = await who.call(event, body)
                assert ack["error"]["code"] == "not_room_admin", (event, ack)
        # Bad input: a clear code, nothing changed.
        ack = await med.call("caucus_create", {"name": "x", "members": [a.pid],
                                               "limit_minutes": 0})
        assert ack["error"]["code"] == "invalid_payload"
        ack = await med.call("caucus_extend", {"caucus_id": "0" * 16, "minutes": 5})
        assert ack["error"]["code"] == "caucus_not_found"
        ack = await med.call("interpreter_attach", {"participant_id": b.pid,
                                                    "interprets_for": a.pid})
        assert ack["error"]["code"] == "not_an_interpreter"
        st, state = await w["staff"].call("GET", f"/api/v1/sessions/{w['session_id']}")
        assert [x["id"] for x in state["caucuses"]] == [k]
        assert all(p["interprets_for"] is None for p in state["participants"])
        for cl in (a, b, c, i, med):
            await cl.close()


async def test_an_interpreter_link_says_what_it_interprets(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await _case(staff)
        for body, code in (({"role": "interpreter"}, "invalid_payload"),
                           ({"role": "party", "interpretation": "sign"}, "invalid_payload"),
                           ({"role": "interpreter", "interpretation": "morse"},
                            "invalid_payload")):
            st, err = await staff.call("POST", f"/api/v1/sessions/{session_id}/invites", body)
            assert st == 400 and err["error"]["code"] == code, body
        inv = await staff.invite(session_id, role="interpreter", interpretation="dialect")
        assert inv["interpretation"] == "dialect"
        st, got = await staff.call("GET", f"/api/v1/sessions/{session_id}/invites")
        assert [x["interpretation"] for x in got["items"]] == ["dialect"]
