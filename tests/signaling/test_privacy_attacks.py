"""The attacks of issue 13, replayed against a running server from outside its API.

Each was reproduced against ``tiaojie serve`` with Python clients (Socket.IO, aiortc,
aiohttp); each test here failed on the main branch of that time and passes now. They run
on SQLite and PostgreSQL, through the real SFU and the real speech model where speech is
involved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from agreements.demo import demo_agreement
from tests.conftest import SHARED_DATA
from tests.experts.kit import expert_server, office, open_console
from tests.experts.test_scope import called_in, joined
from tests.signaling.harness import (
    Client,
    Server,
    Staff,
    connect,
    eventually,
    login,
    make_user,
    running_server,
)
from tests.signaling.rtc_bot import RATE, RtcBot, SpeechTrack, load_speech
from tests.signaling.test_join_flow import full_room, refused

pytestmark = pytest.mark.slow

JFK = str(SHARED_DATA / "speech" / "en" / "jfk.flac")


async def english_room(srv: Server, http: aiohttp.ClientSession,
                       parties: int) -> tuple[Staff, str, Client, list[Client]]:
    """A live English session: the mediator in the room and ``parties`` admitted parties."""
    await make_user(srv, "li")
    staff = await login(srv, http, "li")
    st, case = await staff.call("POST", "/api/v1/cases", {"number": "attack-1",
                                                          "dispute_type": "debt"})
    assert st == 201, case
    st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                {"language": "en"})
    assert st == 201, sess
    sid = sess["id"]
    med = await connect(srv.url, {"token": staff.token, "session_id": sid})
    out = []
    for i in range(parties):
        inv = await staff.invite(sid, side="AB"[i % 2])
        p = await connect(srv.url, {"invite": inv["token"], "name": f"P{i}", "consent": True})
        assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
        await p.wait_for("admitted")
        out.append(p)
    return staff, sid, med, out


async def poll(cond: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Wait for an asynchronous condition, not for a time."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


def captions_of(c: Client, speaker: Client) -> list[dict[str, Any]]:
    return [d for d in c.received("caption") if d["speaker"]["participant_id"] == speaker.pid]


async def test_a_caucus_sentence_cut_by_the_end_of_the_caucus_never_reaches_the_other_party(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, media=True, transcription=True,
                              language="en") as srv, aiohttp.ClientSession() as http:
        staff, sid, med, (a, b) = await english_room(srv, http, 2)
        cid = (await med.call("caucus_create", {"name": "A", "members": [a.pid]}))["caucus_id"]
        assert (await med.call("caucus_move", {"participant_id": med.pid,
                                               "caucus_id": cid}))["ok"]
        speech = load_speech(JFK, repeat=2, gap_s=1.0)  # 23 s: she talks on after the end
        bots = [RtcBot(med, tone=False), RtcBot(a, track=SpeechTrack(speech)),
                RtcBot(b, tone=False)]
        try:
            for bot in bots:
                await bot.publish()
            # Alice talks in the caucus; the mediator ends it as her words come in.
            await med.wait_for("caption", lambda d: d["caucus"] == cid, timeout=150)
            assert (await med.call("caucus_end", {"caucus_id": cid}))["ok"]
            # She goes on in the joint session: Bob reads that part, and only that part.
            await b.wait_for("caption", lambda d: d["final"]
                             and d["speaker"]["participant_id"] == a.pid, timeout=150)

            # Until her last sentence is on the record (21 s from her first word to her
            # last), so that every final has been delivered.
            async def whole_clip_stored() -> bool:
                st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
                hers = [u for u in t["items"] if u["participant_id"] == a.pid]
                return bool(hers) and max(u["end"] for u in hers) - hers[0]["start"] > 20.0

            await poll(whole_clip_stored, timeout=150)
        finally:
            for bot in bots:
                await bot.close()
        in_caucus = {d["utterance_id"] for d in med.received("caption") if d["caucus"] == cid}
        assert in_caucus
        leaked = [d for d in b.received("caption")
                  if d["utterance_id"] in in_caucus or d["caucus"] is not None]
        assert not leaked, leaked
        st, transcript = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
        stored = {u["id"]: u for u in transcript["items"]}
        on_record = [stored[u] for u in in_caucus if u in stored]
        assert on_record and all(u["caucus_id"] == cid for u in on_record), on_record


async def test_muted_unpublished_and_lobby_speech_is_captioned_to_nobody(
        database_url: str, tmp_path: Path) -> None:
    """A party muted by the mediator, an observer with no publish grant and a party sent
    back to the waiting room all speak; a control party speaks after them. Only the
    control party's words become captions or transcript lines."""
    speech = load_speech(JFK)
    silence = np.zeros(RATE * 6, np.int16)
    async with running_server(database_url, tmp_path, media=True, transcription=True,
                              language="en") as srv, aiohttp.ClientSession() as http:
        staff, sid, med, (muted, control, lobby) = await english_room(srv, http, 3)
        inv = await staff.invite(sid, role="observer")
        observer = await connect(srv.url, {"invite": inv["token"], "name": "Obs",
                                           "consent": True})
        assert (await med.call("admit", {"participant_id": observer.pid}))["ok"]
        await observer.wait_for("admitted")
        assert (await med.call("mute", {"participant_id": muted.pid, "source": "audio",
                                        "muted": True}))["ok"]
        bots = [RtcBot(med, tone=False),
                RtcBot(muted, track=SpeechTrack(speech)),
                RtcBot(observer, track=SpeechTrack(speech)),
                RtcBot(lobby, track=SpeechTrack(np.concatenate([silence, speech]))),
                RtcBot(control, track=SpeechTrack(np.concatenate([silence, silence, speech])))]
        try:
            for bot in bots:
                await bot.publish()
            # Sent back while still silent: everything they say from now is unheard.
            assert (await med.call("send_back", {"participant_id": lobby.pid}))["ok"]
            # The barrier: the control party's first words, spoken after everyone else's.
            await med.wait_for("caption", lambda d: d["final"]
                               and d["speaker"]["participant_id"] == control.pid, timeout=120)
        finally:
            for bot in bots:
                await bot.close()
        silenced = (muted, observer, lobby)
        for listener in (med, control, muted, observer, lobby):
            for speaker in silenced:
                assert not captions_of(listener, speaker), (listener.pid, speaker.pid)
        st, transcript = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
        speakers = {u["participant_id"] for u in transcript["items"]}
        assert speakers == {control.pid}, transcript["items"]


def joint_agreement(a: Client, b: Client, case_number: str) -> dict[str, Any]:
    data = demo_agreement().model_dump(mode="json")
    ids = {"P1": a.pid, "P2": b.pid}
    for party in data["parties"]:
        party["party_id"] = ids[party["party_id"]]
    for clause in data["clauses"]:
        clause["obligor"], clause["obligee"] = ids[clause["obligor"]], ids[clause["obligee"]]
    data["case_number"] = case_number
    return data


async def test_a_consultation_expert_never_reads_or_comments_on_the_joint_draft(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        a = await o.party("A", "张三")
        b = await o.party("B", "李四")
        st, case = await o.mediator.call("GET", f"/api/v1/cases/{o.case_id}")
        made = await med.call("draft_create", {
            "kind": "agreement", "data": joint_agreement(a, b, case["number"])})
        assert made["ok"], made
        draft_id = made["draft_id"]
        con = await open_console(srv.url, o.experts[0].token)
        call_id, grant = await called_in(o, con, scope="consultation")
        ex = await joined(srv, o, call_id, grant)
        listed = await ex.call("draft_list", {})
        assert listed["ok"] and draft_id not in [d["draft_id"] for d in listed["drafts"]]
        got = await ex.call("draft_get", {"draft_id": draft_id})
        assert got["error"]["code"] == "draft_not_found"
        said = await ex.call("draft_comment", {"draft_id": draft_id, "version": 1,
                                               "text": "我看了协议"})
        assert not said["ok"] and said["error"]["code"] == "draft_not_found"
        assert not ex.received("draft") and not ex.received("draft_comment")
        assert all(c.get("text") != "我看了协议" for c in a.received("draft_comment"))
        # Nor can the mediator seat the expert as a signer of the joint agreement.
        opened = await med.call("signing_open", {"draft_id": draft_id,
                                                 "seats": {a.pid: ex.pid}})
        assert not opened["ok"], opened


async def test_ending_the_session_ends_every_seat_socket_and_link(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        resume = room.a.welcome["resume_token"]
        assert (await room.med.call("end_session"))["ok"]
        await room.b.wait_for("session_ended")
        for c in (room.a, room.b, room.med):
            await eventually(lambda c=c: not c.sio.connected)
        # The resume link opens nothing: no seat, no evidence upload or download.
        assert (await refused(srv.url, {"resume": resume}))["code"] == "session_ended"
        async with http.post(f"{srv.url}/api/v1/sessions/{room.session_id}/evidence",
                             data=b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                             headers={"X-Seat-Token": resume}) as r:
            assert r.status == 410 and (await r.json())["error"]["code"] == "session_ended"


async def test_a_socket_that_missed_the_end_of_its_session_is_refused_everything(
        database_url: str, tmp_path: Path) -> None:
    """Another node may hold a socket the end's disconnect has not reached yet: it must
    not chat, raise a hand or signal in an ended session."""
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        async with srv.services.rooms.edit(room.session_id) as r:
            r.end()  # ended, but this node has not closed the sockets
        for event, body in (("chat", {"text": "还在吗"}), ("hand", {"raised": True}),
                            ("state", {})):
            ack = await room.a.call(event, body)
            assert not ack["ok"] and ack["error"]["code"] == "session_ended", (event, ack)
        assert not [m for m in room.b.received("chat") if m["text"] == "还在吗"]


async def test_a_logged_out_mediator_loses_the_powers_of_an_open_socket(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        st, _ = await room.staff.call("POST", "/api/v1/auth/logout")
        assert st == 200
        await eventually(lambda: not room.med.sio.connected)
        async with srv.services.rooms.edit(room.session_id) as r:
            assert r.member(room.b.pid).state == "room"


async def test_a_logged_out_mediator_socket_on_another_node_is_refused_at_once(
        database_url: str, tmp_path: Path) -> None:
    """The logout's disconnect reaches only this node's sockets; a socket elsewhere is
    refused on its next event because every event checks the login."""
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        from signaling import accounts

        async with srv.services.db.session() as db:  # logged out behind the node's back
            st, me = await room.staff.call("GET", "/api/v1/auth/me")
            from sqlalchemy import update

            from signaling.db.models import LoginSession
            await db.execute(update(LoginSession).where(LoginSession.user_id == me["id"])
                             .values(revoked=True))
            await db.commit()
            assert not await accounts.login_active(db, "0" * 32)
        ack = await room.med.call("remove", {"participant_id": room.b.pid})
        assert not ack["ok"] and ack["error"]["code"] == "login_required", ack
        async with srv.services.rooms.edit(room.session_id) as r:
            assert r.member(room.b.pid).state == "room"


async def test_clerks_never_get_caucus_or_unshown_evidence_nor_its_title(
        database_url: str, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        await make_user(srv, "qian", role="clerk")
        clerk = await login(srv, http, "qian")
        cid = (await room.med.call("caucus_create", {"name": "甲方",
                                                     "members": [room.a.pid]}))["caucus_id"]
        seat = {"X-Seat-Token": room.a.welcome["resume_token"]}
        ids = []
        for title in ("底线三万元的收据", "公开的收据"):
            async with http.post(f"{srv.url}/api/v1/sessions/{room.session_id}/evidence"
                                 f"?title={title}", data=png, headers=seat) as r:
                assert r.status == 201, await r.text()
                ids.append((await r.json())["id"])
            if title == "底线三万元的收据":
                assert (await room.med.call("caucus_move", {"participant_id": room.a.pid,
                                                            "caucus_id": None}))["ok"]
        for evidence_id in ids:  # neither was shown to the joint session
            async with http.get(f"{srv.url}/api/v1/evidence/{evidence_id}",
                                headers={"Authorization": f"Bearer {clerk.token}"}) as r:
                assert r.status == 404
        assert (await room.med.call("evidence_show", {"evidence_id": ids[1]}))["ok"]
        async with http.get(f"{srv.url}/api/v1/evidence/{ids[1]}",
                            headers={"Authorization": f"Bearer {clerk.token}"}) as r:
            assert r.status == 200
        async with http.get(f"{srv.url}/api/v1/evidence/{ids[0]}",
                            headers={"Authorization": f"Bearer {room.staff.token}"}) as r:
            assert r.status == 200  # the mediator keeps the whole file
        st, log = await clerk.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        assert st == 200 and "底线三万元" not in str(log), log
        st, log = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        assert "底线三万元" in str(log) and cid


async def test_a_caucus_of_two_sides_leaks_nothing_to_the_third_nor_to_an_interpreter_taken_out(
        database_url: str, tmp_path: Path) -> None:
    """Issue 17: three named sides; a caucus of A and B (different sides) with A's
    interpreter following A in. The third side C tries every channel; then the mediator
    re-attaches the interpreter to C, which takes them out of the caucus at once: nothing
    said there afterwards reaches them, and what was written there is closed to them."""
    from tests.signaling.harness import settled
    from tests.signaling.test_evidence import PNG, fetch, upload
    from tests.signaling.test_sides import _three_sides

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        w = await _three_sides(srv, http)
        staff, sid = w["staff"], w["session_id"]
        med, a, b, c, i = w["med"], w["a"], w["b"], w["c"], w["i"]
        assert (await med.call("interpreter_attach", {"participant_id": i.pid,
                                                      "interprets_for": a.pid}))["ok"]
        made = await med.call("caucus_create", {"name": "甲乙", "limit_minutes": 20,
                                                "members": [a.pid, b.pid, med.pid]})
        k = made["caucus_id"]
        await i.wait_for("layout", lambda d: i.pid in next(
            (x["members"] for x in d["caucuses"] if x["id"] == k), []))
        # C tries to get in, reshape or stretch it: refused.
        for event, body in (("caucus_move", {"participant_id": c.pid, "caucus_id": k}),
                            ("caucus_extend", {"caucus_id": k, "minutes": 60}),
                            ("interpreter_attach", {"participant_id": i.pid,
                                                    "interprets_for": c.pid})):
            assert (await c.call(event, body))["error"]["code"] == "not_room_admin"
        # Every channel, inside the caucus.
        assert (await a.call("chat", {"text": "底线五千"}))["ok"]
        assert (await b.call("hand", {"raised": True}))["ok"]
        st_, ev = await upload(srv, http, sid, a.welcome["resume_token"], PNG)
        assert st_ == 201, ev
        assert (await med.call("evidence_show", {"evidence_id": ev["id"]}))["ok"]
        draft = await med.call("draft_create", {"kind": "agreement", "data": joint_agreement(
            a, b, "(2026)三方调字第1号")})
        assert draft["ok"], draft
        await i.wait_for("chat", lambda d: d["text"] == "底线五千")
        # The mediator re-attaches the interpreter to C: out of the caucus at once.
        assert (await med.call("interpreter_attach", {"participant_id": i.pid,
                                                      "interprets_for": c.pid}))["ok"]
        await i.wait_for("layout", lambda d: i.pid in d["joint"])
        assert (await a.call("chat", {"text": "底线再降到四千"}))["ok"]
        await b.wait_for("chat", lambda d: d["text"] == "底线再降到四千")
        await settled(a, b, c, i, med)

        said = {d["text"] for d in c.received("chat")}
        assert not said & {"底线五千", "底线再降到四千"}, said
        assert not c.received("hand") and not c.received("evidence")
        assert not c.received("draft") and not c.received("caption")
        assert "底线再降到四千" not in {d["text"] for d in i.received("chat")}
        for who in (c, i):
            got = await who.call("draft_get", {"draft_id": draft["draft_id"]})
            assert got["error"]["code"] == "draft_not_found", got
            listed = await who.call("draft_list", {})
            assert draft["draft_id"] not in [d["draft_id"] for d in listed["drafts"]]
            status, _ = await fetch(srv, http, ev["id"], who.welcome["resume_token"])
            assert status in (403, 404), status
        # The joint record: that a caucus took place, never what was said in it.
        await make_user(srv, "zhou", role="clerk")
        clerk = await login(srv, http, "zhou")
        await poll(lambda: _logged(staff, sid, "底线再降到四千"), timeout=20)
        st_, log = await clerk.call("GET", f"/api/v1/sessions/{sid}/events")
        assert not [e for e in log["items"] if e["caucus_id"] is not None]
        assert not [e for e in log["items"] if "底线" in str(e["payload"])]
        assert [e for e in log["items"] if e["kind"] == "interpreter.attached"]
        for cl in (a, b, c, i, med):
            await cl.close()


async def _logged(staff: Staff, sid: str, text: str) -> bool:
    st, log = await staff.call("GET", f"/api/v1/sessions/{sid}/events")
    return any(e["payload"].get("text") == text for e in log["items"])
