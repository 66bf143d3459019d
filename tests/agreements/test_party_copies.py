"""Every party's copy: each party downloads the sealed PDF from their own seat during the
session and for TIAOJIE_PARTY_COPY_DAYS after it; the mediator sends a copy link to the
phone, or the PDF to the e-mail address, the party confirmed. Refused: another party's
session, a staff seat, no seat, an expired period. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiosmtpd.controller import Controller

from agreements.demo import demo_agreement
from agreements.parties import entry_digest
from agreements.tables import PartyConfirmationRow
from signaling.db.base import utcnow
from signaling.db.models import MediationSession
from tests.conftest import free_port
from tests.signaling.harness import Server, Staff, login, make_user, running_server
from tests.signaling.mail_inbox import Inbox
from tests.signaling.test_join_flow import full_room

from .room_helpers import stored_document


async def seat_get(http: aiohttp.ClientSession, srv: Server, path: str,
                   **headers: str) -> tuple[int, Any, bytes]:
    async with http.get(srv.url + path, headers=headers) as r:
        raw = await r.read()
        body = json.loads(raw) if r.content_type.endswith("json") else None
        return r.status, body, raw


async def end_session(srv: Server, session_id: str, days_ago: float) -> None:
    async with srv.services.db.session() as db:
        s = await db.get(MediationSession, session_id)
        assert s is not None
        s.ended_at = utcnow() - timedelta(days=days_ago)
        await db.commit()


async def test_each_party_downloads_their_copy_from_their_seat_and_others_are_refused(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, party_copy_days=2) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        _, state = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}")
        ids = await stored_document(srv, state["session"]["case_id"], room.session_id)
        doc = ids["document_id"]
        # In the room the party's draft list names it the same way.
        listed = await room.a.call("draft_list", {})
        assert [(d["document_id"], d["short_id"]) for d in listed["drafts"]] == [
            (doc, ids["short_id"])]
        seat_a = {"X-Seat-Token": room.a.welcome["resume_token"]}
        seat_b = {"X-Seat-Token": room.b.welcome["resume_token"]}

        for seat in (seat_a, seat_b):
            status, listing, _ = await seat_get(http, srv, "/api/v1/seat/documents", **seat)
            assert status == 200 and [d["id"] for d in listing["items"]] == [doc]
            assert listing["items"][0]["available_until"] is None  # the session is live
            # What the copy prints under its QR code, and where to check it.
            assert listing["items"][0]["short_id"] == ids["short_id"]
            assert listing["items"][0]["verify_url"] == f"/verify/{ids['short_id']}"
            status, _, pdf = await seat_get(http, srv, f"/api/v1/seat/documents/{doc}/pdf",
                                            **seat)
            assert status == 200 and pdf.startswith(b"%PDF")

        # A party of another session sees nothing of it.
        _, other_session = await room.staff.new_session("(2026)长北调字第2号")
        from tests.signaling.test_join_flow import party

        stranger = await party(srv, await room.staff.invite(other_session, side="A"), "王二")
        seat_x = {"X-Seat-Token": stranger.welcome["resume_token"]}
        status, listing, _ = await seat_get(http, srv, "/api/v1/seat/documents", **seat_x)
        assert status == 200 and listing["items"] == []
        status, body, _ = await seat_get(http, srv, f"/api/v1/seat/documents/{doc}/pdf",
                                         **seat_x)
        assert status == 404 and body["error"]["code"] == "document_not_found"
        # No seat, a made-up seat, a staff login, the mediator's own seat: refused.
        for headers in ({}, {"X-Seat-Token": "x" * 43},
                        {"Authorization": f"Bearer {room.staff.token}"}):
            status, body, _ = await seat_get(http, srv, f"/api/v1/seat/documents/{doc}/pdf",
                                             **headers)
            assert (status, body["error"]["code"]) == (401, "seat_invalid"), headers
        # An observer's seat is no party's: no copy.
        watcher = await party(srv, await room.staff.invite(room.session_id, role="observer"),
                              "旁听")
        status, body, _ = await seat_get(http, srv, "/api/v1/seat/documents",
                                         **{"X-Seat-Token": watcher.welcome["resume_token"]})
        assert (status, body["error"]["code"]) == (403, "not_a_party")

        # After the session: within the period the copy is there, after it it is not.
        await end_session(srv, room.session_id, days_ago=1)
        status, listing, _ = await seat_get(http, srv, "/api/v1/seat/documents", **seat_a)
        assert status == 200 and listing["items"][0]["available_until"]
        await end_session(srv, room.session_id, days_ago=3)
        status, body, _ = await seat_get(http, srv, f"/api/v1/seat/documents/{doc}/pdf",
                                         **seat_a)
        assert (status, body["error"]["code"]) == (410, "copy_expired")


async def test_the_mediator_sends_a_link_to_the_confirmed_phone_and_the_pdf_by_email(
        database_url: str, tmp_path: Path) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        async with running_server(database_url, tmp_path, smtp_host="127.0.0.1",
                                  smtp_port=smtp.port, smtp_security="none",
                                  smtp_from="tiaojie@example.cn") as srv, \
                aiohttp.ClientSession() as http:
            room = await full_room(srv, http)
            _, state = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}")
            case_id = state["session"]["case_id"]
            ids = await stored_document(srv, case_id, room.session_id)
            doc = ids["document_id"]
            path = f"/api/v1/documents/{doc}/send"
            status, body = await room.staff.call("POST", path, {"party_id": "P1"})
            assert (status, body["error"]["code"]) == (409, "no_confirmed_contact")

            # P1 (张三, seat A) confirmed a phone and an e-mail.
            party = demo_agreement().parties[0].model_copy(update={"email": "zhang@example.cn"})
            async with srv.services.db.session() as db:
                db.add(PartyConfirmationRow(
                    draft_id=ids["draft_id"], party_id="P1", participant_id=room.a.pid,
                    acting_as="party", version_number=1, status="confirmed",
                    details=party.model_dump(mode="json"), details_digest=entry_digest(party)))
                await db.commit()

            status, body = await room.staff.call("POST", path, {"party_id": "P1"})
            assert status == 202 and body == {"channel": "sms", "sent_to": "*******0001"}
            sms = [json.loads(p.read_text()) for p in sorted((tmp_path / "outbox").glob("*.json"))]
            assert [m["purpose"] for m in sms] == ["document_copy"]
            url = sms[0]["params"]["url"]
            assert url.startswith(srv.url + "/copy#t=")
            link = {"X-Copy-Token": url.split("#t=", 1)[1]}
            status, listing, _ = await seat_get(http, srv, "/api/v1/seat/documents", **link)
            assert status == 200 and [d["id"] for d in listing["items"]] == [doc]
            status, _, pdf = await seat_get(http, srv, f"/api/v1/seat/documents/{doc}/pdf",
                                            **link)
            assert status == 200 and pdf.startswith(b"%PDF")
            # A copy link opens its own document only, not another of the same session.
            other = (await stored_document(srv, case_id, room.session_id))["document_id"]
            status, body, _ = await seat_get(http, srv, f"/api/v1/seat/documents/{other}/pdf",
                                             **link)
            assert (status, body["error"]["code"]) == (404, "document_not_found")

            status, body = await room.staff.call("POST", path, {"party_id": "P1",
                                                                "channel": "email"})
            assert status == 202 and body["sent_to"] == "z***@example.cn"
            mail = inbox.messages[-1]
            assert mail["To"] == "zhang@example.cn"
            parts = list(mail.iter_attachments())
            assert parts[0].get_content_type() == "application/pdf"
            pdf = cast(bytes, parts[0].get_payload(decode=True))
            assert pdf.startswith(b"%PDF")

            # A clerk may not send; another office's mediator cannot even see the document.
            await make_user(srv, "qian", role="clerk")
            clerk: Staff = await login(srv, http, "qian")
            status, body = await clerk.call("POST", path, {"party_id": "P1"})
            assert (status, body["error"]["code"]) == (403, "role_not_allowed")
            await make_user(srv, "zhou", office="另一个调解委员会")
            stranger = await login(srv, http, "zhou")
            status, body = await stranger.call("POST", path, {"party_id": "P1"})
            assert (status, body["error"]["code"]) == (404, "document_not_found")
    finally:
        smtp.stop()
