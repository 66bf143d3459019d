"""Joining by link, the lobby, the room and caucuses, with real Socket.IO clients."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import update

from signaling.db.base import utcnow
from signaling.db.models import Invite
from signaling.sockets import namespace
from signaling.sockets.namespace import EVENTS
from tests.signaling.harness import (
    Client,
    Server,
    Staff,
    connect,
    login,
    make_user,
    running_server,
    settled,
)


async def refused(url: str, auth: dict[str, Any]) -> dict[str, Any]:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    await sio.disconnect()
    # Socket.IO's shape: {"message": ..., "data": {"code", "message"}}.
    assert errors and isinstance(errors[0], dict), errors
    return dict(errors[0]["data"])


async def party(srv: Server, inv: dict[str, Any], name: str) -> Client:
    return await connect(srv.url, {"invite": inv["token"], "name": name, "consent": True,
                                   "joined_from": "上海市长宁区"})


async def mediator_in(srv: Server, staff: Staff, session_id: str) -> Client:
    return await connect(srv.url, {"token": staff.token, "session_id": session_id})


class Room:
    """A mediator and two admitted parties, A and B."""

    def __init__(self, srv: Server, staff: Staff, session_id: str, med: Client, a: Client,
                 b: Client) -> None:
        self.srv, self.staff, self.session_id = srv, staff, session_id
        self.med, self.a, self.b = med, a, b


async def full_room(srv: Server, http: aiohttp.ClientSession) -> Room:
    await make_user(srv, "li")
    staff = await login(srv, http, "li")
    _, session_id = await staff.new_session()
    med = await mediator_in(srv, staff, session_id)
    a = await party(srv, await staff.invite(session_id, side="A"), "张三")
    b = await party(srv, await staff.invite(session_id, side="B"), "李四")
    for p in (a, b):
        assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
        await p.wait_for("admitted")
    return Room(srv, staff, session_id, med, a, b)


async def test_a_party_joins_by_link_waits_and_is_admitted(database_url: str,
                                                           tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        med = await mediator_in(srv, staff, session_id)
        assert med.welcome["role"] == "mediator" and med.welcome["state"] == "room"
        inv = await staff.invite(session_id, side="A")
        a = await party(srv, inv, "张三")
        assert a.welcome["state"] == "lobby" and a.welcome["side"] == "A"
        assert a.welcome["resume_token"]
        waiting = await med.wait_for("lobby", lambda d: d["waiting"])
        assert waiting["waiting"][0]["name"] == "张三"
        # A waiting party cannot talk yet.
        ack = await a.call("chat", {"text": "喂?"})
        assert ack["error"]["code"] == "not_in_room"
        assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
        admitted = await a.wait_for("admitted")
        assert a.pid in admitted["layout"]["joint"]
        lay = await med.wait_for("layout", lambda d: a.pid in d["joint"])
        assert lay["version"] >= 1
        st, state = await staff.call("GET", f"/api/v1/sessions/{session_id}")
        assert st == 200 and state["session"]["status"] == "live"
        assert {p["name"] for p in state["participants"]} == {"Li", "张三"}
        st, log = await staff.call("GET", f"/api/v1/sessions/{session_id}/events")
        kinds = [e["kind"] for e in log["items"]]
        assert "consent.recorded" in kinds and "lobby.admitted" in kinds
        await a.close()
        await med.close()


async def test_a_mediator_who_enters_after_the_parties_sees_who_is_already_waiting(
        database_url: str, tmp_path: Path) -> None:
    """A scheduled session's parties often open their links before the mediator enters:
    the mediator's console must list them at once, not after the next arrival."""
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        a = await party(srv, await staff.invite(session_id, side="A"), "张三")
        b = await party(srv, await staff.invite(session_id, side="B"), "李四")
        med = await mediator_in(srv, staff, session_id)
        waiting = await med.wait_for("lobby", lambda d: len(d["waiting"]) == 2)
        assert {w["name"] for w in waiting["waiting"]} == {"张三", "李四"}
        assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
        await a.wait_for("admitted")
        # Only whoever admits is told who waits: the parties never get the list.
        await settled(a, b, med)
        assert not a.received("lobby") and not b.received("lobby")
        for c in (a, b, med):
            await c.close()


async def test_people_who_say_they_share_a_phone_are_named_to_the_mediator_alone(
        tmp_path: Path) -> None:
    """The device check's "several people share this device": the names travel with the
    join, the mediator sees them in the lobby and the participant list (and decides with
    ``shared_device``); the other parties never see them; a bad list is refused."""
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        med = await mediator_in(srv, staff, session_id)
        inv_a = await staff.invite(session_id, side="A")
        for names in (["王芳"] * 9, ["王芳", "x" * 41], ["王芳", " "], "王芳"):
            err = await refused(srv.url, {"invite": inv_a["token"], "name": "张家",
                                          "consent": True, "shared_names": names})
            assert err["code"] == "invalid_payload", (names, err)
        a = await connect(srv.url, {"invite": inv_a["token"], "name": "张家", "consent": True,
                                    "shared_names": ["王芳", " 李雷 ", "王芳"]})
        b = await party(srv, await staff.invite(session_id, side="B"), "李四")
        waiting = await med.wait_for("lobby", lambda d: len(d["waiting"]) == 2)
        declared = {w["name"]: w["declared_voices"] for w in waiting["waiting"]}
        assert declared == {"张家": ["王芳", "李雷"], "李四": []}
        for p in (a, b):
            assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
            await p.wait_for("admitted")
        lay = await med.wait_for("layout", lambda d: b.pid in d["joint"])
        row = next(p for p in lay["participants"] if p["participant_id"] == a.pid)
        assert row["declared_voices"] == ["王芳", "李雷"] and row["shared_device"] == 1
        await settled(a, b, med)
        for c in (a, b):
            for event, data in c.events:
                assert "王芳" not in repr(data), (event, data)
        # The mediator decides: the seat is shared once marked, as before.
        assert (await med.call("shared_device", {"participant_id": a.pid, "people": 2}))["ok"]
        assert (await a.wait_for("voices"))["people"] == 2
        for c in (a, b, med):
            await c.close()


async def test_forged_expired_revoked_and_used_up_links_are_refused_with_distinct_codes(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        base = {"name": "张三", "consent": True}
        assert (await refused(srv.url, {**base, "invite": "forged-token-" + "x" * 20}))[
            "code"] == "invite_invalid"
        revoked = await staff.invite(session_id)
        await staff.call("POST", f"/api/v1/invites/{revoked['id']}/revoke")
        assert (await refused(srv.url, {**base, "invite": revoked["token"]}))[
            "code"] == "invite_revoked"
        expired = await staff.invite(session_id)
        async with srv.services.db.session() as db:
            await db.execute(update(Invite).where(Invite.id == expired["id"])
                             .values(expires_at=utcnow() - timedelta(minutes=1)))
            await db.commit()
        assert (await refused(srv.url, {**base, "invite": expired["token"]}))[
            "code"] == "invite_expired"
        once = await staff.invite(session_id, max_uses=1)
        first = await party(srv, once, "张三")
        assert (await refused(srv.url, {**base, "invite": once["token"]}))[
            "code"] == "invite_used_up"
        assert (await refused(srv.url, {"invite": once["token"], "name": "x"}))[
            "code"] == "consent_required"
        assert (await refused(srv.url, {}))["code"] == "no_auth"
        assert (await refused(srv.url, {"token": "nope", "session_id": session_id}))[
            "code"] == "login_required"
        await first.close()


async def test_the_mediator_denies_and_the_party_is_told_and_cannot_resume(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        med = await mediator_in(srv, staff, session_id)
        a = await party(srv, await staff.invite(session_id), "王五")
        resume = a.welcome["resume_token"]
        assert (await med.call("deny", {"participant_id": a.pid, "reason": "不是当事人"}))["ok"]
        assert (await a.wait_for("denied"))["reason"] == "不是当事人"
        assert (await refused(srv.url, {"resume": resume}))["code"] == "seat_denied"
        await med.close()


async def test_a_dropped_party_comes_back_with_its_seat(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                              reconnect_grace_s=30) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        resume = room.a.welcome["resume_token"]
        pid = room.a.pid
        await room.a.close()
        await room.med.wait_for("layout", lambda d: any(
            p["participant_id"] == pid and not p["connected"] for p in d["participants"]))
        back = await connect(srv.url, {"resume": resume})
        assert back.pid == pid and back.welcome["state"] == "room"
        assert "resume_token" not in back.welcome
        assert (await back.call("chat", {"text": "我回来了"}))["ok"]


async def test_the_others_see_a_dropped_party_as_reconnecting_not_gone(tmp_path: Path) -> None:
    """During the grace period the seat stays in the layout everyone gets, marked not
    connected (the page shows 正在重新连接…); it leaves the layout only if nobody comes
    back in time."""
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                              reconnect_grace_s=30) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        resume = room.a.welcome["resume_token"]
        pid = room.a.pid
        await room.a.close()
        for other in (room.b, room.med):
            lay = await other.wait_for("layout", lambda d: any(
                p["participant_id"] == pid and not p["connected"] for p in d["participants"]))
            assert pid in lay["joint"]
        back = await connect(srv.url, {"resume": resume})
        assert back.pid == pid
        lay = await room.b.wait_for("layout", lambda d: any(
            p["participant_id"] == pid and p["connected"] for p in d["participants"]))
        assert pid in lay["joint"]


async def test_the_mediator_messages_the_lobby_and_only_the_lobby_hears_it(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        waiting = await party(srv, await room.staff.invite(room.session_id, side="A"), "王五")
        await room.med.wait_for("lobby", lambda d: d["waiting"])
        # Another session of the same office, with its own lobby.
        _, other_sid = await room.staff.new_session("(2026)长北调字第2号")
        other_med = await mediator_in(srv, room.staff, other_sid)
        elsewhere = await party(srv, await room.staff.invite(other_sid, side="A"), "赵六")
        ack = await room.med.call("lobby_message", {"text": "  调解员将于5分钟后开始  "})
        assert ack == {"ok": True, "reached": 1}
        got = await waiting.wait_for("lobby_message")
        assert got["text"] == "调解员将于5分钟后开始" and got["from"]["role"] == "mediator"
        # Nobody but the mediator may send one.
        for who in (room.a, waiting):
            ack = await who.call("lobby_message", {"text": "我来说"})
            assert ack["ok"] is False and ack["error"]["code"] in ("not_room_admin",
                                                                  "not_in_room"), ack
        # Empty, too long, or not text: refused with a clear code.
        for bad in ({"text": "   "}, {"text": "长" * 501}, {"text": 5}, {}):
            ack = await room.med.call("lobby_message", bad)
            assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", (bad, ack)
        await settled(room.a, room.b, room.med, elsewhere, other_med, waiting)
        for c in (room.a, room.b, room.med, elsewhere, other_med):
            assert not c.received("lobby_message")
        assert len(waiting.received("lobby_message")) == 1
        _st, log = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        said = [e for e in log["items"] if e["kind"] == "lobby.message"]
        assert said and said[0]["payload"]["reached"] == 1


async def test_a_party_cannot_use_any_mediator_control(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        a, b = room.a, room.b
        cid = (await room.med.call("caucus_create", {"name": "甲方", "members": []}))["caucus_id"]
        attempts = {
            "admit": {"participant_id": b.pid}, "deny": {"participant_id": b.pid},
            "send_back": {"participant_id": b.pid}, "remove": {"participant_id": b.pid},
            "mute": {"participant_id": b.pid}, "request_mute": {"participant_id": b.pid},
            "shared_device": {"participant_id": b.pid, "people": 2},
            "voice_enroll": {"participant_id": b.pid, "name": "王芳"},
            "caucus_create": {"name": "私下"},
            "caucus_move": {"participant_id": a.pid, "caucus_id": cid},
            "caucus_end": {"caucus_id": cid}, "caucus_return_all": {}, "end_session": {},
        }
        for event, payload in attempts.items():
            ack = await a.call(event, payload)
            assert ack["ok"] is False and ack["error"]["code"] == "not_room_admin", (event, ack)
        _st, state = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}")
        assert b.pid in state["joint"] and a.pid in state["joint"]
        assert state["caucuses"][0]["members"] == []


async def test_caucus_chat_and_hands_reach_only_its_members(database_url: str,
                                                            tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        med, a, b = room.med, room.a, room.b
        ack = await med.call("caucus_create", {"name": "与甲方背靠背", "members": [a.pid]})
        assert ack["ok"]
        cid = ack["caucus_id"]
        assert (await med.call("caucus_move", {"participant_id": med.pid, "caucus_id": cid}))["ok"]
        lay = await b.wait_for("layout", lambda d: d["caucuses"] and
                               set(d["caucuses"][0]["members"]) == {a.pid, med.pid})
        assert lay["joint"] == [b.pid]
        assert (await a.call("chat", {"text": "我最多能赔两千"}))["ok"]
        await a.call("hand", {"raised": True})
        await med.wait_for("chat", lambda d: d["text"] == "我最多能赔两千")
        await med.wait_for("hand", lambda d: d["participant_id"] == a.pid)
        assert (await b.call("chat", {"text": "我在等"}))["ok"]
        await settled(a, med, b)  # anything misrouted has arrived by now
        assert all(m["text"] != "我最多能赔两千" for m in b.received("chat"))
        assert not b.received("hand")
        assert all(m["text"] != "我在等" for m in a.received("chat") + med.received("chat"))
        # The clerk's view of the log is the joint record: the caucus chat is not in it.
        await make_user(srv, "zhou", role="clerk")
        clerk = await login(srv, http, "zhou")
        for _ in range(50):  # chat lines are written to the log just behind the broadcast
            st, log = await clerk.call("GET", f"/api/v1/sessions/{room.session_id}/events")
            texts = [e["payload"].get("text") for e in log["items"]]
            if "我在等" in texts:
                break
            await asyncio.sleep(0.1)
        assert "我在等" in texts and "我最多能赔两千" not in texts
        assert (await med.call("caucus_end", {"caucus_id": cid}))["ok"]
        lay = await b.wait_for("layout", lambda d: not d["caucuses"])
        assert set(lay["joint"]) == {a.pid, b.pid, med.pid}
        _st, log = await clerk.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        ended = [e for e in log["items"] if e["kind"] == "caucus.ended"]
        assert ended and "duration_s" in ended[0]["payload"]


async def test_removed_participants_are_disconnected_and_stay_out(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        resume = room.b.welcome["resume_token"]
        assert (await room.med.call("remove", {"participant_id": room.b.pid}))["ok"]
        await room.b.wait_for("removed")
        for _ in range(100):
            if not room.b.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not room.b.sio.connected
        assert (await refused(srv.url, {"resume": resume}))["code"] == "seat_removed"


@pytest.mark.slow
async def test_malformed_payloads_of_every_event_get_errors_and_the_room_lives_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(namespace, "BURST", 1000.0)
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        bad_payloads: list[Any] = ["text", 42, [1, 2], {"participant_id": "../../etc"},
                                   {"unexpected": True, "participant_id": 7},
                                   {"text": "x" * 70_000}]
        for event in EVENTS:
            if event in ("state", "leave", "end_session", "caucus_return_all"):
                payloads = ["text", [1], {"extra": 1}]
            else:
                payloads = bad_payloads
            for payload in payloads:
                ack = await room.med.call(event, payload)
                assert ack["ok"] is False, (event, payload, ack)
                assert ack["error"]["code"] in ("invalid_payload", "payload_too_large"), ack
        ack = await room.a.call("no_such_event", {})
        assert ack["error"]["code"] == "unknown_event"
        assert room.med.sio.connected and room.a.sio.connected
        assert (await room.a.call("chat", {"text": "still here"}))["ok"]
        await room.b.wait_for("chat", lambda d: d["text"] == "still here")


@pytest.mark.slow
async def test_event_floods_are_rate_limited_per_connection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        # Twice the burst at once; on a loaded host the 80 calls can take longer than the
        # bucket's refill, so the refill is slowed: the burst is what is under test.
        monkeypatch.setattr(namespace, "EVENTS_PER_SECOND", 0.1)
        acks = await asyncio.gather(*(room.a.call("hand", {"raised": True})
                                      for _ in range(int(2 * namespace.BURST))))
        limited = [x for x in acks if not x["ok"]]
        assert limited and limited[0]["error"]["code"] == "rate_limited"
        assert room.a.sio.connected
