"""Scheduling a session with notices: the invitations reach a local SMS gateway (checking
the request signature) and a local SMTP server (with an .ics file), their links work, the
case moves to 排期, and the reminders go out the day before and an hour before, once each,
across passes and nodes; a revoked link gets none. Times are the office's (Asia/Shanghai).
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from signaling.db.engine import Database
from signaling.db.models import MediationSession, SessionReminder
from signaling.notify import build_notifier
from signaling.scheduling import send_due_reminders, stage_due
from tests.conftest import free_port
from tests.signaling.harness import connect, login, make_user, running_server
from tests.signaling.mail_inbox import Inbox
from tests.signaling.sms_gateway import sender_settings, sms_of, start_gateway

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_reminder_due_follows_the_time_left() -> None:
    h = timedelta(hours=1)
    assert [stage_due(x) for x in (30 * h, 24 * h, 2 * h, h + timedelta(seconds=1), h,
                                   timedelta(minutes=5), timedelta(0), -h)] == \
        [None, "day", "day", "day", "hour", "hour", None, None]


async def test_a_scheduled_session_sends_invitations_and_reminders_once(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("aliyun")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        async with running_server(database_url, tmp_path, session_reminder_interval_s=0,
                                  smtp_host="127.0.0.1", smtp_port=smtp.port,
                                  smtp_security="none", smtp_from="tiaojie@example.cn",
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "li")
            li = await login(srv, http, "li")
            st, case = await li.call("POST", "/api/v1/cases", {
                "number": "(2026)长北调字第7号", "dispute_type": "neighbour"})
            await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": "accepted"})
            # Two days ahead, 09:30 in Shanghai, entered without an offset.
            day = (datetime.now(SHANGHAI) + timedelta(days=2)).date()
            local = datetime(day.year, day.month, day.day, 9, 30)
            st, out = await li.call("POST", f"/api/v1/cases/{case['id']}/schedule", {
                "title": "第一次调解", "starts_at": local.isoformat(), "expected_minutes": 90,
                "invitees": [
                    {"name": "张三", "side": "A", "contact": "138 0000 0001"},
                    {"name": "李四", "side": "B", "contact": "lisi@example.cn"},
                    {"name": "王五", "side": "B", "contact": "13800000003"},
                    {"name": "现场", "side": "A"}]})
            assert st == 201, out
            starts = local.replace(tzinfo=SHANGHAI)
            assert datetime.fromisoformat(out["session"]["scheduled_at"]) == starts
            assert out["session"]["expected_minutes"] == 90
            by_name = {i["label"]: i for i in out["invites"]}
            assert [by_name[n]["notified"] for n in ("张三", "李四", "王五", "现场")] == \
                ["sent", "sent", "sent", None]
            assert by_name["张三"]["contact_masked"] == "*******0001"
            st, case_now = await li.call("GET", f"/api/v1/cases/{case['id']}")
            assert case_now["status"] == "scheduled"

            # SMS: the case number, the local time and a working link.
            invites = sms_of(gw, "session_invite")
            assert sorted(p for p, _ in invites) == ["13800000001", "13800000003"]
            params = dict(invites)["13800000001"]
            assert params["case_number"] == "(2026)长北调字第7号"
            assert params["time"] == f"{day.year}年{day.month}月{day.day}日 09:30"
            assert params["url"] == by_name["张三"]["url"]
            token = params["url"].split("#t=", 1)[1]
            party = await connect(srv.url, {"invite": token, "name": "张三", "consent": True})
            assert party.welcome["state"] == "lobby"

            # E-mail: the same, with an .ics whose start is the session's, in UTC.
            assert [m["To"] for m in inbox.messages] == ["lisi@example.cn"]
            mail = inbox.messages[0]
            mail_body = mail.get_body()
            assert mail_body is not None
            assert by_name["李四"]["url"] in mail_body.get_content()
            ics = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
            assert len(ics) == 1
            cal = ics[0].get_content()
            cal = cal.decode() if isinstance(cal, bytes) else cal
            assert f"DTSTART:{starts.astimezone(UTC):%Y%m%dT%H%M%SZ}" in cal
            assert f"DTEND:{(starts + timedelta(minutes=90)).astimezone(UTC):%Y%m%dT%H%M%SZ}" \
                in cal

            # The links are listed; 王五's is revoked: no reminder for it.
            sid = out["session"]["id"]
            st, listed = await li.call("GET", f"/api/v1/sessions/{sid}/invites")
            assert {i["label"] for i in listed["items"]} == {"张三", "李四", "王五", "现场"}
            assert all("token" not in i for i in listed["items"])
            await li.call("POST", f"/api/v1/invites/{by_name['王五']['id']}/revoke")

            notifier = srv.services.notifier
            assert notifier is not None
            db, settings = srv.services.db, srv.services.settings
            # 30 hours before: nothing. 23 hours before: the day reminder, to 李四 only
            # (张三's link is used, 王五's revoked, 现场 has no address).
            assert (await send_due_reminders(db, notifier, settings,
                                             starts - timedelta(hours=30))).sent == []
            report = await send_due_reminders(db, notifier, settings,
                                              starts - timedelta(hours=23))
            assert report.sent == [(by_name["李四"]["id"], "day")]
            again = await send_due_reminders(db, notifier, settings,
                                             starts - timedelta(hours=20))
            assert again.sent == []
            report = await send_due_reminders(db, notifier, settings,
                                              starts - timedelta(minutes=50))
            assert report.sent == [(by_name["李四"]["id"], "hour")]
            assert (await send_due_reminders(db, notifier, settings,
                                             starts - timedelta(minutes=10))).sent == []
            reminders = [m for m in inbox.messages if "提醒" in str(m["Subject"])]
            assert len(reminders) == 2
            reminder_body = reminders[0].get_body()
            assert reminder_body is not None
            assert "09:30" in reminder_body.get_content()
            assert sms_of(gw, "session_reminder") == []
    finally:
        smtp.stop()
        await gw.close()


async def test_two_nodes_send_each_reminder_once_and_a_late_schedule_gets_the_hour_one(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("tencent")
    try:
        async with running_server(database_url, tmp_path, session_reminder_interval_s=0,
                                  **sender_settings("tencent", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "li")
            li = await login(srv, http, "li")
            st, case = await li.call("POST", "/api/v1/cases", {
                "number": "(2026)长北调字第8号", "dispute_type": "debt"})
            starts = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
            st, out = await li.call("POST", f"/api/v1/cases/{case['id']}/schedule", {
                "starts_at": starts.isoformat(), "invitees": [
                    {"name": "张三", "contact": "13800000001"},
                    {"name": "李四", "contact": "13800000002"}]})
            assert st == 201, out
            st, same = await li.call("GET", f"/api/v1/cases/{case['id']}")
            assert same["status"] == "applied", "an application is not scheduled before 受理"
            settings = srv.services.settings
            # Scheduled three hours ahead: no day reminder, the hour one at 50 minutes.
            notifier = srv.services.notifier
            assert notifier is not None
            assert (await send_due_reminders(srv.services.db, notifier, settings,
                                             starts - timedelta(hours=2))).sent == []
            now = starts - timedelta(minutes=50)
            nodes = [(Database(settings.database_url), build_notifier(settings))
                     for _ in range(2)]
            try:
                reports = await asyncio.gather(*(send_due_reminders(d, n, settings, now)
                                                 for d, n in nodes))
            finally:
                for d, n in nodes:
                    await n.close()
                    await d.close()
            assert sum(len(r.sent) for r in reports) == 2
            assert sorted(p for p, _ in sms_of(gw, "session_reminder")) == [
                "13800000001", "13800000002"]
            async with srv.services.db.session() as s:
                n = await s.scalar(select(func.count()).select_from(SessionReminder))
            assert n == 2
    finally:
        await gw.close()


async def test_a_bad_schedule_is_refused_and_stores_nothing(database_url: str,
                                                            tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, session_reminder_interval_s=0) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "zhao", "clerk")
        await make_user(srv, "wang")
        li, zhao, wang = [await login(srv, http, u) for u in ("li", "zhao", "wang")]
        st, case = await li.call("POST", "/api/v1/cases", {
            "number": "(2026)长北调字第9号", "dispute_type": "debt"})
        path = f"/api/v1/cases/{case['id']}/schedule"
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        cases = [
            (li, {"starts_at": "2020-01-01T09:00:00"}, 400, "starts_in_past"),
            (li, {"starts_at": "9999-12-31T23:59:00"}, 400, "starts_too_far"),
            (li, {"starts_at": future, "invitees": [{"name": "张三", "contact": "12345"}]},
             400, "contact_invalid"),
            (li, {"starts_at": future, "expected_minutes": 5}, 400, "invalid_payload"),
            (zhao, {"starts_at": future}, 403, "role_not_allowed"),
            (wang, {"starts_at": future}, 403, "not_your_case"),
        ]
        for who, body, status, code in cases:
            st, out = await who.call("POST", path, body)
            assert (st, out["error"]["code"]) == (status, code), body
        st, _ = await li.call("POST", f"/api/v1/cases/{case['id']}/moves",
                              {"to": "rejected", "reason": "不属于受理范围"})
        assert st == 200
        st, out = await li.call("POST", path, {"starts_at": future})
        assert (st, out["error"]["code"]) == (409, "case_closed")
        async with srv.services.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(MediationSession)) == 0
