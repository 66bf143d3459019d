"""Evidence: typed by content, encrypted at rest, seen only where the mediator shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.signaling.harness import Server
from tests.signaling.test_join_flow import full_room

PNG = b"\x89PNG\r\n\x1a\n" + b"IHDR-evidence-of-the-leaking-roof" * 20


async def upload(srv: Server, http: aiohttp.ClientSession, session_id: str, seat: str,
                 data: bytes) -> tuple[int, dict[str, Any]]:
    async with http.post(srv.url + f"/api/v1/sessions/{session_id}/evidence?title=漏水照片",
                         data=data, headers={"X-Seat-Token": seat}) as r:
        return r.status, await r.json()


async def fetch(srv: Server, http: aiohttp.ClientSession, evidence_id: str, seat: str
                ) -> tuple[int, bytes]:
    async with http.get(srv.url + f"/api/v1/evidence/{evidence_id}",
                        headers={"X-Seat-Token": seat}) as r:
        return r.status, await r.read()


async def test_evidence_is_shown_only_to_the_space_the_mediator_chooses(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        from tests.signaling.harness import running_server

        async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
            room = await full_room(srv, http)
            seat_a = room.a.welcome["resume_token"]
            seat_b = room.b.welcome["resume_token"]
            st, ev = await upload(srv, http, room.session_id, seat_a, PNG)
            assert st == 201 and ev["content_type"] == "image/png" and ev["title"] == "漏水照片"
            assert (await fetch(srv, http, ev["id"], seat_a)) == (200, PNG)
            assert (await fetch(srv, http, ev["id"], seat_b))[0] == 404
            stored = list((tmp_path / "evidence").iterdir())
            assert len(stored) == 1 and b"leaking-roof" not in stored[0].read_bytes()
            # Shown in the caucus of the mediator and B: B may open it, A still may not see it.
            cid = (await room.med.call("caucus_create", {"name": "乙方", "members": [room.b.pid]}
                                       ))["caucus_id"]
            await room.med.call("caucus_move", {"participant_id": room.med.pid, "caucus_id": cid})
            assert (await room.med.call("evidence_show", {"evidence_id": ev["id"]}))["ok"]
            shown = await room.b.wait_for("evidence")
            assert shown["id"] == ev["id"] and shown["download"].endswith(ev["id"])
            assert (await fetch(srv, http, ev["id"], seat_b)) == (200, PNG)
            assert not room.a.received("evidence")
            # A party cannot show evidence; bad types and sizes are refused.
            ack = await room.a.call("evidence_show", {"evidence_id": ev["id"]})
            assert ack["error"]["code"] == "not_room_admin"
            st, body = await upload(srv, http, room.session_id, seat_a, b"<html><script>")
            assert (st, body["error"]["code"]) == (400, "unsupported_type")
            st, body = await upload(srv, http, room.session_id, seat_a,
                                    b"%PDF-" + b"0" * (10 * 1024 * 1024))
            assert st == 413
            st, body = await upload(srv, http, room.session_id, "forged", PNG)
            assert (st, body["error"]["code"]) == (401, "seat_invalid")


@pytest.mark.slow
async def test_uploads_and_expert_calls_are_rate_limited(tmp_path: Path) -> None:
    from experts.limits import EXPERT_CALL
    from signaling import ratelimit
    from tests.signaling.harness import running_server

    async with aiohttp.ClientSession() as http, \
            running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        room = await full_room(srv, http)
        seat = room.a.welcome["resume_token"]
        statuses = [(await upload(srv, http, room.session_id, seat, PNG))[0]
                    for _ in range(ratelimit.UPLOAD.hits + 1)]
        assert statuses[:-1] == [201] * ratelimit.UPLOAD.hits and statuses[-1] == 429
        codes = []
        for _ in range(EXPERT_CALL.hits + 1):
            ack = await room.med.call("expert_call", {"domain": "legal", "scope": "joint"})
            codes.append(ack["ok"] or ack["error"]["code"])
        assert codes[-1] == "rate_limited"


async def test_caucus_evidence_stays_out_of_the_joint_record_and_the_clerks_hands(
        tmp_path: Path) -> None:
    from tests.signaling.harness import login, make_user, running_server

    async with aiohttp.ClientSession() as http, running_server(
            f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        room = await full_room(srv, http)
        await make_user(srv, "qian", role="clerk")
        clerk = await login(srv, http, "qian")
        cid = (await room.med.call("caucus_create", {"name": "甲方", "members": [room.a.pid]}
                                   ))["caucus_id"]
        seat_a = room.a.welcome["resume_token"]
        async with http.post(srv.url + f"/api/v1/sessions/{room.session_id}/evidence"
                             "?title=底线五万", data=PNG,
                             headers={"X-Seat-Token": seat_a}) as r:
            assert r.status == 201
            caucus_ev = (await r.json())["id"]
        async with http.post(srv.url + f"/api/v1/sessions/{room.session_id}/evidence",
                             data=PNG, headers={"Authorization": f"Bearer {room.staff.token}"}
                             ) as r:
            joint_ev = (await r.json())["id"]
        assert (await room.med.call("evidence_show", {"evidence_id": joint_ev}))["ok"]

        async def clerk_fetch(evidence_id: str) -> int:
            async with http.get(srv.url + f"/api/v1/evidence/{evidence_id}",
                                headers={"Authorization": f"Bearer {clerk.token}"}) as r:
                return r.status

        assert await clerk_fetch(joint_ev) == 200
        assert await clerk_fetch(caucus_ev) == 404  # unshown, uploaded in a caucus
        # The upload's title is logged in the caucus: the mediator reads it, the clerk not.
        st, mine = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        logged = [e for e in mine["items"] if e["kind"] == "evidence.uploaded"
                  and e["payload"]["evidence_id"] == caucus_ev]
        assert logged and logged[0]["caucus_id"] == cid
        st, theirs = await clerk.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        assert "底线五万" not in str(theirs)
        # Once the session ends, a seat's resume token neither reads nor writes evidence.
        assert (await room.med.call("end_session"))["ok"]
        assert (await fetch(srv, http, caucus_ev, seat_a))[0] == 410  # session_ended
        st, body = await upload(srv, http, room.session_id, seat_a, PNG)
        assert st == 410 and body["error"]["code"] == "session_ended", body


async def test_a_late_joiner_opens_the_exhibit_of_their_own_space_only(tmp_path: Path) -> None:
    """Someone who joins or reconnects after an exhibit was shown is given it, at the
    presenter's page, in their welcome (or admission): the joint session's, or their own
    caucus's, never another caucus's."""
    from tests.signaling.harness import connect, running_server
    from tests.signaling.test_join_flow import party

    async with aiohttp.ClientSession() as http, \
            running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        room = await full_room(srv, http)
        assert room.med.welcome["exhibit"] is None  # nothing shown yet
        seat_a = room.a.welcome["resume_token"]
        seat_b = room.b.welcome["resume_token"]
        _, joint_ev = await upload(srv, http, room.session_id, seat_a, PNG)
        _, caucus_ev = await upload(srv, http, room.session_id, seat_b, PNG + b"b")
        assert (await room.med.call("evidence_show", {"evidence_id": joint_ev["id"]}))["ok"]
        assert (await room.med.call("exhibit_page", {"evidence_id": joint_ev["id"],
                                                     "page": 2}))["ok"]
        await room.a.wait_for("exhibit_page")

        # A party admitted now opens the joint exhibit at the presenter's page.
        c = await party(srv, await room.staff.invite(room.session_id, side="A"), "王五")
        assert "exhibit" not in c.welcome  # in the lobby: nothing of the room
        assert (await room.med.call("admit", {"participant_id": c.pid}))["ok"]
        admitted = await c.wait_for("admitted")
        assert admitted["exhibit"]["evidence"]["id"] == joint_ev["id"]
        assert admitted["exhibit"]["page"] == 2
        assert admitted["exhibit"]["evidence"]["download"].endswith(joint_ev["id"])

        # B's caucus is shown another piece; A goes to a caucus of their own.
        cid_b = (await room.med.call("caucus_create", {"name": "乙方", "members": [room.b.pid]}
                                     ))["caucus_id"]
        await room.med.call("caucus_move", {"participant_id": room.med.pid, "caucus_id": cid_b})
        assert (await room.med.call("evidence_show", {"evidence_id": caucus_ev["id"]}))["ok"]
        assert (await room.med.call("exhibit_page", {"evidence_id": caucus_ev["id"],
                                                     "page": 3}))["ok"]
        await room.b.wait_for("exhibit_page", lambda d: d["page"] == 3)
        assert (await room.med.call("caucus_create", {"name": "甲方", "members": [room.a.pid]}
                                    ))["ok"]

        async def rejoin(seat: str) -> dict[str, Any]:
            again = await connect(srv.url, {"resume": seat})
            await again.close()
            return again.welcome

        b_again = await rejoin(seat_b)
        assert b_again["exhibit"]["evidence"]["id"] == caucus_ev["id"]
        assert b_again["exhibit"]["page"] == 3
        # A sits in another caucus: neither B's caucus exhibit nor the joint one.
        assert (await rejoin(seat_a))["exhibit"] is None
        # The joint session still shows its own; the caucus's never leaks there.
        c_again = await rejoin(c.welcome["resume_token"])
        assert c_again["exhibit"]["evidence"]["id"] == joint_ev["id"]
        # A caucus that ends takes its exhibit with it: B back in joint sees joint's.
        assert (await room.med.call("caucus_end", {"caucus_id": cid_b}))["ok"]
        b_back = await rejoin(seat_b)
        assert b_back["exhibit"]["evidence"]["id"] == joint_ev["id"]
        assert b_back["exhibit"]["page"] == 2


async def test_someone_moved_to_another_space_follows_that_space_s_exhibit(
        tmp_path: Path) -> None:
    """Moved into a caucus (or back), a participant is handed what their new space is
    looking at, or nothing; nobody who stayed where they were is told anything."""
    from tests.signaling.harness import running_server, settled

    async with aiohttp.ClientSession() as http, \
            running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv:
        room = await full_room(srv, http)
        _, ev = await upload(srv, http, room.session_id, room.b.welcome["resume_token"], PNG)
        cid = (await room.med.call("caucus_create", {"name": "乙方", "members": [room.b.pid]})
               )["caucus_id"]
        await room.med.call("caucus_move", {"participant_id": room.med.pid, "caucus_id": cid})
        assert (await room.med.call("evidence_show", {"evidence_id": ev["id"]}))["ok"]
        assert (await room.med.call("exhibit_page", {"evidence_id": ev["id"], "page": 2}))["ok"]
        await room.b.wait_for("exhibit_page", lambda d: d["page"] == 2)

        # B was told, on entering the new caucus, that it showed nothing yet.
        assert room.b.received("space_exhibit") == [{"exhibit": None}]
        # A is moved into the caucus that shows the piece: A opens it at its page.
        assert (await room.med.call("caucus_move", {"participant_id": room.a.pid,
                                                    "caucus_id": cid}))["ok"]
        handed = await room.a.wait_for("space_exhibit")
        assert handed["exhibit"]["evidence"]["id"] == ev["id"]
        assert handed["exhibit"]["page"] == 2
        # Back in the joint session, which shows nothing: A is told so (and closes it).
        assert (await room.med.call("caucus_move", {"participant_id": room.a.pid,
                                                    "caucus_id": None}))["ok"]
        await room.a.wait_for("space_exhibit", lambda d: d["exhibit"] is None)
        await settled(room.b)
        assert len(room.b.received("space_exhibit")) == 1  # B stayed where it was: nothing new
        # The caucus ends: B, back in joint, is told that nothing is shown there.
        assert (await room.med.call("caucus_end", {"caucus_id": cid}))["ok"]
        await room.b.wait_for("space_exhibit", lambda d: d["exhibit"] is None)
