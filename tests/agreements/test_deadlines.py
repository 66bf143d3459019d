"""The 司法确认 deadline (人民调解法 art. 33): shown with the days left, and reminded at 7
days and 1 day before it to each party (at the phone and e-mail they confirmed) and the
mediator, through the configured senders: a local SMS gateway that checks the request
signature, and a local SMTP server. Each reminder goes out once: a second pass, a
second node and a restart send nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import aiohttp
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from agreements.deadlines import (
    CHINA,
    REMINDERS,
    china_today,
    send_due_reminders,
    stage_due,
)
from agreements.demo import demo_agreement
from agreements.parties import entry_digest
from agreements.tables import DeadlineReminderRow, PartyConfirmationRow, SealedDocumentRow
from signaling.db.engine import Database
from signaling.notify import build_notifier
from signaling.periodic import Periodic
from tests.conftest import free_port
from tests.signaling.harness import Server, Staff, login, make_user, running_server
from tests.signaling.mail_inbox import Inbox
from tests.signaling.sms_gateway import LocalGateway, sender_settings, sms_of, start_gateway

from .room_helpers import stored_document

DEADLINE = date(2027, 1, 5)
ID_NUMBERS = ("310105196803140013", "91310105MA1FL00004")
"""The demo parties' ID number and credit code: never in a reminder."""


def at_china(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA).astimezone(UTC)


async def agreement_with_deadline(srv: Server, staff: Staff, deadline: date,
                                  number: str = "(2026)长北调字第1号") -> dict[str, str]:
    """A sealed agreement whose deadline is ``deadline``; P1 (张三) confirmed a phone and an
    e-mail, P2 (the company) through its agent 王五, who confirmed a phone."""
    case_id, session_id = await staff.new_session(number)
    ids = await stored_document(srv, case_id, session_id)
    parties = demo_agreement().parties
    p1 = parties[0].model_copy(update={"email": "zhang@example.cn"})
    p2 = parties[1]
    async with srv.services.db.session() as db:
        doc = await db.get(SealedDocumentRow, ids["document_id"])
        assert doc is not None
        doc.judicial_confirmation_deadline = deadline
        for party, pid, acting_as in ((p1, "a" * 32, "party"), (p2, "b" * 32, "agent:0")):
            db.add(PartyConfirmationRow(
                draft_id=ids["draft_id"], party_id=party.party_id, participant_id=pid,
                acting_as=acting_as, version_number=1, status="confirmed",
                details=party.model_dump(mode="json"), details_digest=entry_digest(party)))
        await db.commit()
    return ids | {"case_id": case_id, "session_id": session_id}


def sms_to(gw: LocalGateway) -> list[tuple[str, dict[str, str]]]:
    """(phone, parameters) of each deadline reminder the gateway accepted (Tencent numbers
    the parameters: named here in the template's order)."""
    return sorted(sms_of(gw, "deadline_reminder"), key=lambda x: (x[0], x[1]["days"]))


def test_the_reminder_due_follows_the_days_left() -> None:
    assert [stage_due(n) for n in (9, 8, 7, 5, 2, 1, 0, -1)] == \
        [None, None, 7, 7, 7, 1, 1, None]


async def test_reminders_reach_the_parties_and_the_mediator_once_at_7_and_1_days(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("aliyun")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        async with running_server(database_url, tmp_path, deadline_reminder_interval_s=0,
                                  smtp_host="127.0.0.1", smtp_port=smtp.port,
                                  smtp_security="none", smtp_from="tiaojie@example.cn",
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "li")
            staff = await login(srv, http, "li")
            ids = await agreement_with_deadline(srv, staff, DEADLINE)
            notifier = srv.services.notifier
            assert notifier is not None
            db = srv.services.db

            # Too early, then 8 days before: nothing.
            for day in (DEADLINE - timedelta(days=20), DEADLINE - timedelta(days=8)):
                report = await send_due_reminders(db, notifier, at_china(day))
                assert report.sent == []
            assert gw.received == [] and inbox.messages == []

            # 7 days before: P1 by SMS and e-mail, P2's agent and the mediator by SMS.
            report = await send_due_reminders(db, notifier, at_china(DEADLINE - timedelta(7)))
            assert sorted(k for _, _, k in report.sent) == [
                "mediator:sms", "party:P1:email", "party:P1:sms", "party:P2:sms"]
            params = {"case_number": demo_agreement().case_number, "date": "2027-01-05",
                      "days": "7"}
            assert sms_to(gw) == [("13800000001", params), ("13800000002", params),
                                  ("13800000003", params)]
            assert [m["To"] for m in inbox.messages] == ["zhang@example.cn"]
            mail_body = inbox.messages[0].get_body()
            assert mail_body is not None
            body = mail_body.get_content()
            assert "2027-01-05" in body and "还剩7天" in body
            for text in [body, *(str(m.params) for m in gw.received)]:
                assert not any(n in text for n in ID_NUMBERS)

            # A second pass the same day, and one the next day: nothing more.
            for day in (DEADLINE - timedelta(7), DEADLINE - timedelta(6)):
                assert (await send_due_reminders(db, notifier, at_china(day))).sent == []
            assert len(gw.received) == 3 and len(inbox.messages) == 1

            # 1 day before (late evening in China is still that day): the 1-day reminders.
            day_before = at_china(DEADLINE - timedelta(1), hour=23)
            report = await send_due_reminders(db, notifier, day_before)
            assert len(report.sent) == 4
            assert [p["days"] for _, p in sms_to(gw)].count("1") == 3
            assert (await send_due_reminders(db, notifier, day_before)).sent == []
            # The deadline day and after it: nothing more.
            for day in (DEADLINE, DEADLINE + timedelta(1)):
                assert (await send_due_reminders(db, notifier, at_china(day))).sent == []
            assert len(gw.received) == 6 and len(inbox.messages) == 2

            async with db.session() as s:
                rows = list((await s.execute(select(DeadlineReminderRow))).scalars())
            assert {(r.stage, r.status) for r in rows} == {(7, "sent"), (1, "sent")}
            assert {r.sent_to for r in rows if r.recipient == "party:P1:sms"} == {"*******0001"}
            assert all(r.document_id == ids["document_id"] for r in rows)
    finally:
        smtp.stop()
        await gw.close()


async def test_a_failed_send_is_tried_again_and_two_nodes_send_each_reminder_once(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("aliyun")
    try:
        async with running_server(database_url, tmp_path, deadline_reminder_interval_s=0,
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "li")
            staff = await login(srv, http, "li")
            await agreement_with_deadline(srv, staff, DEADLINE)
            now = at_china(DEADLINE - timedelta(7))
            # The gateway refuses the first message (throttled): that one is retried later.
            gw.fail_next.append("isv.BUSINESS_LIMIT_CONTROL")
            notifier = srv.services.notifier
            assert notifier is not None
            first = await send_due_reminders(srv.services.db, notifier, now)
            assert len(first.failed) == 1 and len(first.sent) == 2

            # Two nodes, each with its own connection pool and senders, at the same moment.
            nodes = [(Database(srv.services.settings.database_url),
                      build_notifier(srv.services.settings)) for _ in range(2)]
            try:
                reports = await asyncio.gather(*(send_due_reminders(d, n, now)
                                                 for d, n in nodes))
            finally:
                for d, n in nodes:
                    await n.close()
                    await d.close()
            assert sorted(r.sent for r in reports) == [[], first.failed]
            assert len(sms_to(gw)) == 3
            assert len({phone for phone, _ in sms_to(gw)}) == 3
    finally:
        await gw.close()


async def test_the_service_sends_reminders_by_itself_once_even_after_a_restart(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("tencent")
    try:
        settings = dict(deadline_reminder_interval_s=0.05, **sender_settings("tencent", gw))
        async with running_server(database_url, tmp_path, **settings) as srv, \
                aiohttp.ClientSession() as http:
            loop = srv.services.get(REMINDERS)
            assert isinstance(loop, Periodic)
            await make_user(srv, "li")
            staff = await login(srv, http, "li")
            deadline = china_today(datetime.now(UTC)) + timedelta(days=7)
            await agreement_with_deadline(srv, staff, deadline)
            start = loop.passes
            for _ in range(400):
                if loop.passes >= start + 3:
                    break
                await asyncio.sleep(0.02)
            assert loop.passes >= start + 3
            assert len(sms_to(gw)) == 3
        # Restarted on the same database: the loop runs again and sends nothing new.
        async with running_server(database_url, tmp_path, **settings) as srv:
            loop = srv.services.get(REMINDERS)
            assert loop is not None
            for _ in range(400):
                if loop.passes >= 3:
                    break
                await asyncio.sleep(0.02)
            assert loop.passes >= 3
            assert len(sms_to(gw)) == 3
            async with srv.services.db.session() as s:
                assert await s.scalar(select(func.count()).select_from(
                    DeadlineReminderRow)) == 3
    finally:
        await gw.close()


async def test_the_documents_list_shows_the_deadline_with_the_days_left(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, deadline_reminder_interval_s=0) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        today = china_today(datetime.now(UTC))
        ids = await agreement_with_deadline(srv, staff, today + timedelta(days=12))
        status, body = await staff.call("GET", f"/api/v1/cases/{ids['case_id']}/documents")
        assert status == 200
        doc = body["items"][0]
        assert doc["judicial_confirmation_deadline"] == (today + timedelta(12)).isoformat()
        assert doc["judicial_confirmation_days_left"] == 12
        assert doc["court_bundle_url"] == f"/api/v1/sessions/{ids['session_id']}/court-bundle"
        async with srv.services.db.session() as db:
            row = await db.get(SealedDocumentRow, ids["document_id"])
            assert row is not None
            row.judicial_confirmation_deadline = today - timedelta(days=3)
            await db.commit()
        _, body = await staff.call("GET", f"/api/v1/cases/{ids['case_id']}/documents")
        assert body["items"][0]["judicial_confirmation_days_left"] == -3
