"""A return visit (回访) coming due texts the case's mediator once, through the local SMS
gateway (which checks each request's signature), on SQLite and PostgreSQL: not before it
is due; once when two nodes pass at the same moment; again only when the visit is moved to
another day; never for a recorded visit, a mediator without a mobile number, or a visit
long overdue; and the app's own loop sends it. The mediator's number is set by an
administrator and shown masked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.db.models import Case, ReturnVisit, ReturnVisitReminder
from signaling.notify import build_notifier
from signaling.return_visits import send_due_visit_reminders, today
from tests.signaling.harness import PASSWORD, Server, Staff, login, make_user, running_server
from tests.signaling.sms_gateway import sender_settings, sms_of, start_gateway

QUIET: dict[str, Any] = {"session_reminder_interval_s": 0, "return_visit_reminder_interval_s": 0}


async def agreed_case(srv: Server, med: Staff, number: str, due_in_days: int) -> str:
    """A case of ``med`` in 达成协议 whose return visit is due in ``due_in_days``."""
    st, case = await med.call("POST", "/api/v1/cases", {"number": number,
                                                        "dispute_type": "邻里纠纷"})
    assert st == 201, case
    async with srv.services.db.session() as db:
        await db.execute(update(Case).where(Case.id == case["id"]).values(status="agreed"))
        await db.commit()
    due = today(srv.services.settings) + timedelta(days=due_in_days)
    st, out = await med.call("PUT", f"/api/v1/cases/{case['id']}/return-visit",
                             {"due_on": due.isoformat()})
    assert st == 200, out
    return str(case["id"])


async def mediator_with_phone(srv: Server, http: aiohttp.ClientSession, adm: Staff,
                              username: str, phone: str) -> Staff:
    st, out = await adm.call("POST", "/api/v1/staff", {
        "username": username, "display_name": username, "role": "mediator",
        "password": PASSWORD, "phone": phone})
    assert st == 201, out
    return await login(srv, http, username)


async def mediator_sets_own_phone(srv: Server, http: aiohttp.ClientSession) -> tuple[int, Any]:
    """A mediator may not set anyone's number, their own included."""
    zhao = await login(srv, http, "zhao")
    return await zhao.call("PATCH", f"/api/v1/staff/{zhao.user['id']}", {"phone": "13800000000"})


async def reminders(srv: Server) -> int:
    async with srv.services.db.session() as db:
        return int(await db.scalar(select(func.count()).select_from(ReturnVisitReminder)) or 0)


async def test_a_due_return_visit_texts_its_mediator_once(database_url: str,
                                                          tmp_path: Path) -> None:
    gw = await start_gateway("aliyun")
    try:
        async with running_server(database_url, tmp_path, **QUIET,
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "adm", "admin")
            await make_user(srv, "nophone", "mediator")
            adm = await login(srv, http, "adm")
            # The administrator sets the mediator's number; it is checked and shown masked.
            st, err = await adm.call("POST", "/api/v1/staff", {
                "username": "bad", "display_name": "bad", "role": "mediator",
                "password": PASSWORD, "phone": "12345"})
            assert (st, err["error"]["code"]) == (400, "phone_invalid")
            zhao = await mediator_with_phone(srv, http, adm, "zhao", "138 0000 5555")
            st, listed = await adm.call("GET", "/api/v1/staff")
            phones = {u["username"]: (u["id"], u["phone"]) for u in listed["items"]}
            assert phones["zhao"][1] == "*******5555" and phones["nophone"][1] == ""
            st, err = await adm.call("PATCH", f"/api/v1/staff/{phones['nophone'][0]}",
                                     {"phone": "call me"})
            assert (st, err["error"]["code"]) == (400, "phone_invalid")
            st, out = await adm.call("PATCH", f"/api/v1/staff/{phones['nophone'][0]}",
                                     {"phone": "+86 139-0000-1234"})
            assert (st, out["phone"]) == (200, "*******1234")
            st, out = await adm.call("PATCH", f"/api/v1/staff/{phones['nophone'][0]}",
                                     {"phone": ""})
            assert (st, out["phone"]) == (200, "")
            st, err = await mediator_sets_own_phone(srv, http)
            assert (st, err["error"]["code"]) == (403, "role_not_allowed")
            case_id = await agreed_case(srv, zhao, "(2026)长北调字第21号", 3)
            nophone = await login(srv, http, "nophone")
            await agreed_case(srv, nophone, "(2026)长北调字第22号", 3)
            settings, notifier = srv.services.settings, srv.services.notifier
            assert notifier is not None

            # Not due yet: nothing sent, nothing claimed.
            report = await send_due_visit_reminders(srv.services.db, notifier, settings,
                                                    utcnow() + timedelta(days=2))
            assert report.sent == [] and await reminders(srv) == 0

            # Due: two nodes pass at the same moment; one text, to zhao only.
            now = utcnow() + timedelta(days=3)
            nodes = [(Database(settings.database_url), build_notifier(settings))
                     for _ in range(2)]
            try:
                reports = await asyncio.gather(*(send_due_visit_reminders(d, n, settings, now)
                                                 for d, n in nodes))
            finally:
                for d, n in nodes:
                    await n.close()
                    await d.close()
            assert sum(len(r.sent) for r in reports) == 1
            assert all(len(r.skipped) == 1 for r in reports)  # the mediator without a phone
            due = (today(settings) + timedelta(days=3)).isoformat()
            assert sms_of(gw, "return_visit_due") == [
                ("13800005555", {"case_number": "(2026)长北调字第21号", "date": due})]
            later = await send_due_visit_reminders(srv.services.db, notifier, settings,
                                                   now + timedelta(hours=6))
            assert later.sent == [] and await reminders(srv) == 1

            # Moved to another day: reminded again on that day, once.
            new_due = today(settings) + timedelta(days=5)
            st, _ = await zhao.call("PUT", f"/api/v1/cases/{case_id}/return-visit",
                                    {"due_on": new_due.isoformat()})
            assert st == 200
            for _ in range(2):
                await send_due_visit_reminders(srv.services.db, notifier, settings,
                                               utcnow() + timedelta(days=5))
            assert [p["date"] for _, p in sms_of(gw, "return_visit_due")] == [
                due, new_due.isoformat()]

            # Recorded, or long overdue: no text.
            st, _ = await zhao.call("POST", f"/api/v1/cases/{case_id}/return-visits", {
                "visitor": "赵调解员", "method": "phone", "performed": True})
            assert st == 201
            late = await agreed_case(srv, zhao, "(2026)长北调字第23号", 1)
            async with srv.services.db.session() as db:
                await db.execute(update(ReturnVisit).where(ReturnVisit.case_id == late)
                                 .values(due_on=today(settings) - timedelta(days=8)))
                await db.commit()
            report = await send_due_visit_reminders(srv.services.db, notifier, settings,
                                                    utcnow() + timedelta(days=6))
            assert report.sent == [] and len(sms_of(gw, "return_visit_due")) == 2
            # The text names the case and the date, never the parties.
            assert all(set(p) == {"case_number", "date"} for _, p in sms_of(gw, "return_visit_due"))
    finally:
        await gw.close()


async def test_the_apps_loop_sends_the_text_once(tmp_path: Path) -> None:
    gw = await start_gateway("tencent")
    try:
        async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                                  session_reminder_interval_s=0,
                                  return_visit_reminder_interval_s=0.05,
                                  **sender_settings("tencent", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "adm", "admin")
            adm = await login(srv, http, "adm")
            wu = await mediator_with_phone(srv, http, adm, "wu", "13900006666")
            await agreed_case(srv, wu, "(2026)长北调字第31号", 0)  # due today
            loop: Any = srv.services.extras["return_visit_reminders"]
            for _ in range(400):
                if sms_of(gw, "return_visit_due"):
                    break
                await asyncio.sleep(0.05)
            # A barrier: two more whole passes of the loop after the text arrived.
            seen = loop.passes
            for _ in range(400):
                if loop.passes >= seen + 2:
                    break
                await asyncio.sleep(0.05)
            assert loop.passes >= seen + 2
            assert [p for p, _ in sms_of(gw, "return_visit_due")] == ["13900006666"]
            assert await reminders(srv) == 1
    finally:
        await gw.close()
