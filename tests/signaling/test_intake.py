"""Applications by link and QR, intake, a party's "cannot come", return visits and the
agenda, through the HTTP API with the local SMS gateway (which checks each request's
signature): the phone code, the abuse limits per address and per phone, a malformed
application leaving nothing behind, 受理 / 不予受理 with the reason reaching the applicant,
assignment by area, a session opened by hand moving the case along its life, and a
return visit coming due and being recorded. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from signaling import intake
from signaling.db.base import utcnow
from signaling.db.models import Application, ApplicationAttachment, Case, PhoneCode
from signaling.retention import purge
from tests.signaling.harness import Server, Staff, login, make_user, running_server
from tests.signaling.sms_gateway import TEMPLATES, LocalGateway, sender_settings, start_gateway

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
ROOMY = {"apply_ip": (100, 3600), "apply_phone": (100, 86400)}
"""Limits out of the way of tests about something else."""


def application(phone: str, code: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "applicant": {"name": "张三", "phone": phone,
                      "address": "上海市长宁区北新泾街道新泾一村12号"},
        "other_parties": [{"name": "李四", "address": "新泾一村12号楼上"}],
        "dispute_type": "neighbour", "description": "楼上漏水，多次协商未果，请求调解。",
        "phone_code": code, "consent": True, "notice_version": intake.NOTICE_VERSION}
    body.update(over)
    return body


async def plant_code(srv: Server, phone: str, code: str, *, minutes: int = 10) -> None:
    """A phone code as if it had been sent (for tests that do not read the gateway)."""
    s = srv.services
    async with s.db.session() as db:
        db.add(PhoneCode(phone_hash=intake._keyed_hash(s, "apply-phone", phone),
                         code_hash=intake._keyed_hash(s, "apply-code", code),
                         expires_at=utcnow() + timedelta(minutes=minutes)))
        await db.commit()


async def post_application(srv: Server, http: aiohttp.ClientSession, office_id: str,
                           body: dict[str, Any], files: Sequence[tuple[str, bytes]] = ()
                           ) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("application", json.dumps(body), content_type="application/json")
    for name, data in files:
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
    async with http.post(f"{srv.url}/api/v1/public/offices/{office_id}/applications",
                         data=form) as r:
        return r.status, await r.json()


async def submit_application(srv: Server, http: aiohttp.ClientSession, office_id: str, *,
                             phone: str, code: str, files: Sequence[tuple[str, bytes]] = (),
                             **over: Any) -> dict[str, Any]:
    st, out = await post_application(srv, http, office_id, application(phone, code, **over),
                                     files)
    assert st == 201, out
    return out


async def request_code(srv: Server, http: aiohttp.ClientSession, office_id: str,
                       phone: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{srv.url}/api/v1/public/offices/{office_id}/phone-code",
                         json={"phone": phone}) as r:
        return r.status, await r.json()


async def status_of(srv: Server, http: aiohttp.ClientSession, reference: str,
                    token: str) -> tuple[int, dict[str, Any]]:
    async with http.get(f"{srv.url}/api/v1/public/applications/{reference}",
                        headers={intake.STATUS_HEADER: token}) as r:
        return r.status, await r.json()


def sms(gw: LocalGateway, purpose: str, phone: str) -> list[dict[str, str]]:
    from signaling.notify import PARAMS

    out = []
    for m in gw.received:
        if m.template == TEMPLATES[purpose] and m.phone.removeprefix("+86") == phone:
            out.append(m.params if isinstance(m.params, dict)
                       else dict(zip(PARAMS[purpose], m.params)))  # type: ignore[index]
    return out


async def counts(srv: Server) -> tuple[int, int, int, int]:
    async with srv.services.db.session() as db:
        n = [await db.scalar(select(func.count()).select_from(t))
             for t in (Case, Application, ApplicationAttachment)]
    files = srv.services.settings.data_dir / "applications"
    return (*n, len(list(files.iterdir())) if files.exists() else 0)


async def office_staff(srv: Server, http: aiohttp.ClientSession) -> tuple[Staff, Staff, str]:
    await make_user(srv, "li", "mediator")
    await make_user(srv, "adm", "admin")
    li = await login(srv, http, "li")
    adm = await login(srv, http, "adm")
    return li, adm, li.user["office_id"]


async def test_an_application_is_made_refused_with_the_reason_sent_and_shown(
        database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway("aliyun")
    try:
        async with running_server(database_url, tmp_path, **sender_settings("aliyun", gw)) \
                as srv, aiohttp.ClientSession() as http:
            li, adm, office = await office_staff(srv, http)
            async with http.get(f"{srv.url}/api/v1/public/offices/{office}/apply") as r:
                page = await r.json()
            assert page["office_name"] and "个人信息保护法" in page["notice"]
            # City-wide expert sharing (issue 15): the notice says who else may learn the case.
            assert "其他调解组织" in page["notice"] and "专家" in page["notice"]
            assert ["neighbour", "邻里纠纷"] in [[t["key"], t["name"]]
                                             for t in page["dispute_types"]]
            st, sent = await request_code(srv, http, office, "138 0000 1111")
            assert st == 200 and sent["sent_to"] == "*******1111", sent
            code = sms(gw, "application_code", "13800001111")[0]["code"]
            out = await submit_application(srv, http, office, phone="13800001111", code=code,
                                           files=[("漏水.png", PNG), ("合同.pdf", PDF)])
            assert out["status_url"].endswith(f"/application#r={out['reference']}&t="
                                              f"{out['status_token']}")
            st, status = await status_of(srv, http, out["reference"], out["status_token"])
            assert st == 200 and status["status"] == "applied" and status["label"] == "申请"
            for token in ("", "x" * 43):
                st, err = await status_of(srv, http, out["reference"], token)
                assert st == 404 and err["error"]["code"] == "not_found"

            # The case is in 申请, opened by the application; staff read the details.
            st, listed = await li.call("GET", "/api/v1/cases")
            case = listed["items"][0]
            assert case["number"] == out["reference"] and case["status"] == "applied"
            assert case["dispute_type"] == "邻里纠纷"  # as the register writes it, not a key
            st, detail = await li.call("GET", f"/api/v1/cases/{case['id']}/application")
            assert detail["applicant"]["phone"] == "13800001111"
            assert detail["other_parties"][0]["name"] == "李四"
            assert sorted(a["content_type"] for a in detail["attachments"]) == \
                ["application/pdf", "image/png"]
            png = next(a for a in detail["attachments"] if a["content_type"] == "image/png")
            async with http.get(f"{srv.url}/api/v1/application-attachments/{png['id']}",
                                headers={"Authorization": f"Bearer {li.token}"}) as r:
                assert r.status == 200 and await r.read() == PNG
            stored = srv.services.settings.data_dir / "applications"
            assert all(PNG not in f.read_bytes() for f in stored.iterdir())  # encrypted
            await make_user(srv, "clerk", "clerk")
            clerk = await login(srv, http, "clerk")
            st, masked = await clerk.call("GET", f"/api/v1/cases/{case['id']}/application")
            assert masked["applicant"]["phone"] == "*******1111"

            # 不予受理 needs a reason; the reason reaches the applicant and their page.
            st, err = await li.call("POST", f"/api/v1/cases/{case['id']}/intake",
                                    {"decision": "refuse"})
            assert st == 400 and err["error"]["code"] == "reason_required"
            st, refused = await li.call("POST", f"/api/v1/cases/{case['id']}/intake", {
                "decision": "refuse", "reason": "已进入诉讼程序"})
            assert st == 200 and refused["status"] == "rejected", refused
            decision = sms(gw, "application_decision", "13800001111")
            assert decision == [{"reference": out["reference"], "decision": "不予受理",
                                 "reason": "理由：已进入诉讼程序"}]
            st, status = await status_of(srv, http, out["reference"], out["status_token"])
            assert status["label"] == "不予受理" and status["reason"] == "已进入诉讼程序"
            st, err = await li.call("POST", f"/api/v1/cases/{case['id']}/intake",
                                    {"decision": "accept"})
            assert st == 409 and err["error"]["code"] == "illegal_transition"

            # Retention: the refused application's attachments go once their time passed
            # (files and rows); the case and its reason stay, as do codes not yet expired.
            s = srv.services
            await plant_code(srv, "13800002222", "123456")
            async with s.db.session() as db:
                report = await purge(db, s.settings)
            assert (report.application_files, report.phone_codes) == (0, 0)
            async with s.db.session() as db:
                await db.execute(update(Application).values(
                    created_at=utcnow() - timedelta(days=s.settings.retention_days_applications
                                                    + 1)))
                await db.execute(update(PhoneCode).values(
                    expires_at=utcnow() - timedelta(days=2)))
                await db.commit()
            async with s.db.session() as db:
                dry = await purge(db, s.settings, dry_run=True)
            assert (dry.application_files, dry.phone_codes) == (2, 2)
            assert len(list(stored.iterdir())) == 2
            async with s.db.session() as db:
                report = await purge(db, s.settings)
            assert (report.application_files, report.phone_codes) == (2, 2)
            assert list(stored.iterdir()) == []
            async with s.db.session() as db:
                assert await db.scalar(select(func.count()).select_from(
                    ApplicationAttachment)) == 0
                assert await db.scalar(select(func.count()).select_from(PhoneCode)) == 0
            st, status = await status_of(srv, http, out["reference"], out["status_token"])
            assert status["label"] == "不予受理" and status["reason"] == "已进入诉讼程序"
    finally:
        await gw.close()


async def test_a_malformed_application_is_refused_clearly_and_nothing_is_stored(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, rate_limits=ROOMY) as srv, \
            aiohttp.ClientSession() as http:
        _, _, office = await office_staff(srv, http)
        await plant_code(srv, "13800002222", "111111")
        cases = [
            (application("13800002222", "111111", consent=False), [], "invalid_payload"),
            (application("13800002222", "111111", dispute_type="astrology"), [],
             "dispute_type_invalid"),
            (application("12345", "111111"), [], "phone_invalid"),
            (application("13800002222", "111111", description="短"), [], "invalid_payload"),
            (application("13800002222", "111111"), [("x.gif", b"GIF89a" + b"0" * 20)],
             "unsupported_type"),
            (application("13800002222", "111111"), [("big.png", PNG + b"0" * (5 << 20))],
             "payload_too_large"),
            # A valid attachment with a wrong code: refused, and its file is not kept.
            (application("13800002222", "000000"), [("ok.png", PNG)], "code_wrong"),
        ]
        for body, files, code in cases:
            st, err = await post_application(srv, http, office, body, files)
            assert st in (400, 413) and err["error"]["code"] == code, (code, err)
            assert err["error"]["message"]
        async with http.post(f"{srv.url}/api/v1/public/offices/{office}/applications",
                             data=b"{not json", headers={"Content-Type": "application/json"}
                             ) as r:
            assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"
        assert await counts(srv) == (0, 0, 0, 0)
        # The code was not used up by the refusals.
        await submit_application(srv, http, office, phone="13800002222", code="111111",
                                 files=[("ok.png", PNG)])
        assert await counts(srv) == (1, 1, 1, 1)


async def test_phone_codes_wrong_expired_and_reused_are_refused(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path,
                              rate_limits={"apply_code_wrong": (3, 900), **ROOMY}) as srv, \
            aiohttp.ClientSession() as http:
        _, _, office = await office_staff(srv, http)
        await plant_code(srv, "13800003333", "222222", minutes=-1)
        st, err = await post_application(srv, http, office, application("13800003333",
                                                                        "222222"))
        assert (st, err["error"]["code"]) == (400, "code_expired")
        await plant_code(srv, "13800003333", "333333")
        await submit_application(srv, http, office, phone="13800003333", code="333333")
        st, err = await post_application(srv, http, office, application("13800003333",
                                                                        "333333"))
        assert (st, err["error"]["code"]) == (400, "code_used")
        await plant_code(srv, "13800003333", "444444")
        for _ in range(3):
            st, err = await post_application(srv, http, office,
                                             application("13800003333", "999999"))
            assert (st, err["error"]["code"]) == (400, "code_wrong")
        # Three wrong codes: the phone is blocked, even with the right code.
        st, err = await post_application(srv, http, office,
                                         application("13800003333", "444444"))
        assert st == 429, err
        assert await counts(srv) == (1, 1, 0, 0)


async def test_abuse_limits_per_address_and_per_phone(database_url: str,
                                                     tmp_path: Path) -> None:
    gw = await start_gateway("tencent")
    try:
        async with running_server(database_url, tmp_path, **sender_settings("tencent", gw),
                                  rate_limits={"apply_code_phone": (2, 3600),
                                               "apply_code_ip": (4, 3600),
                                               "apply_phone": (1, 86400),
                                               "apply_ip": (3, 3600)}) as srv, \
                aiohttp.ClientSession() as http:
            _, _, office = await office_staff(srv, http)
            # Codes: two per phone, four per address (a refused attempt counts there too).
            assert (await request_code(srv, http, office, "13800004444"))[0] == 200
            assert (await request_code(srv, http, office, "13800004444"))[0] == 200
            st, err = await request_code(srv, http, office, "13800004444")
            assert st == 429, err
            assert (await request_code(srv, http, office, "13800005555"))[0] == 200
            st, err = await request_code(srv, http, office, "13800006666")
            assert st == 429, err
            assert len(sms(gw, "application_code", "13800004444")) == 2
            assert sms(gw, "application_code", "13800006666") == []
            # Applications: one per phone a day; three per address an hour.
            code = sms(gw, "application_code", "13800004444")[-1]["code"]
            await submit_application(srv, http, office, phone="13800004444", code=code)
            await plant_code(srv, "13800004444", "555555")
            st, err = await post_application(srv, http, office,
                                             application("13800004444", "555555"))
            assert st == 429, err
            await plant_code(srv, "13800007777", "666666")
            await submit_application(srv, http, office, phone="13800007777", code="666666")
            await plant_code(srv, "13800008888", "777777")
            st, err = await post_application(srv, http, office,
                                             application("13800008888", "777777"))
            assert st == 429, err  # the address's fourth attempt this hour
            assert await counts(srv) == (2, 2, 0, 0)
    finally:
        await gw.close()


async def test_intake_assigns_by_area_or_by_hand_and_only_the_office_may(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        li, adm, office = await office_staff(srv, http)
        await make_user(srv, "wang", "mediator")
        wang = await login(srv, http, "wang")
        await make_user(srv, "other", "mediator", office="赤峰市红山区人民调解委员会")
        other = await login(srv, http, "other")
        st, areas = await li.call("PUT", "/api/v1/office/areas", {"items": []})
        assert st == 403 and areas["error"]["code"] == "role_not_allowed"
        st, areas = await adm.call("PUT", "/api/v1/office/areas", {"items": [
            {"name": "新泾一村网格", "keywords": ["新泾一村", "新泾二村"],
             "mediator_id": wang.user["id"]},
            {"name": "北新泾片区", "keywords": ["北新泾"], "mediator_id": li.user["id"]}]})
        assert st == 200 and [a["name"] for a in areas["items"]] == ["新泾一村网格", "北新泾片区"]
        st, err = await adm.call("PUT", "/api/v1/office/areas", {"items": [
            {"name": "外", "keywords": ["x"], "mediator_id": other.user["id"]}]})
        assert st == 400 and err["error"]["code"] == "mediator_invalid"

        await plant_code(srv, "13800008888", "123456")
        await submit_application(srv, http, office, phone="13800008888", code="123456")
        st, listed = await adm.call("GET", "/api/v1/cases")
        case_id = listed["items"][0]["id"]
        st, err = await other.call("POST", f"/api/v1/cases/{case_id}/intake",
                                   {"decision": "accept"})
        assert st == 404 and err["error"]["code"] == "case_not_found"
        st, case = await adm.call("POST", f"/api/v1/cases/{case_id}/intake",
                                  {"decision": "accept", "assign": "area"})
        assert st == 200 and case["status"] == "accepted", case
        assert case["mediator_id"] == wang.user["id"]
        st, detail = await adm.call("GET", f"/api/v1/cases/{case_id}/application")
        assert detail["area"] == "新泾一村网格"
        # Reassigned by hand; li may now change it, wang may not.
        st, case = await adm.call("POST", f"/api/v1/cases/{case_id}/assign",
                                  {"assign": "manual", "mediator_id": li.user["id"]})
        assert case["mediator_id"] == li.user["id"]
        st, err = await wang.call("POST", f"/api/v1/cases/{case_id}/assign",
                                  {"assign": "manual", "mediator_id": wang.user["id"]})
        assert st == 403 and err["error"]["code"] == "not_your_case"
        st, log = await adm.call("GET", f"/api/v1/cases/{case_id}/log")
        assert [(e["from_status"], e["to_status"]) for e in log["items"]] == \
            [(None, "applied"), ("applied", "accepted")]
        assert log["items"][0]["actor_name"] == "在线申请"


async def test_a_session_opened_by_hand_moves_the_case_along_its_life(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        li, adm, _ = await office_staff(srv, http)
        for start, path in (("applied", []),
                            ("accepted", ["scheduled", "in_mediation"]),
                            ("scheduled", ["in_mediation"]), ("in_mediation", [])):
            st, case = await li.call("POST", "/api/v1/cases", {
                "number": f"(2026)长北调字第{start}号", "dispute_type": "neighbour"})
            for step in {"applied": [], "accepted": ["accepted"],
                         "scheduled": ["accepted", "scheduled"],
                         "in_mediation": ["accepted", "scheduled", "in_mediation"]}[start]:
                await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": step})
            st, s = await li.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                  {"title": "现场"})
            assert st == 201, s
            st, now = await li.call("GET", f"/api/v1/cases/{case['id']}")
            # 申请 stays: accepting is intake's decision (the applicant is told of it).
            assert now["status"] == ("applied" if start == "applied" else "in_mediation")
            st, log = await li.call("GET", f"/api/v1/cases/{case['id']}/log")
            opened = [e["to_status"] for e in log["items"] if e["reason"] == "开启调解会议"]
            assert opened == path
        st, case = await li.call("POST", "/api/v1/cases", {"number": "终", "dispute_type": "x"})
        await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": "rejected",
                                                                    "reason": "不属于受理范围"})
        st, err = await li.call("POST", f"/api/v1/cases/{case['id']}/sessions", {})
        assert st == 409 and err["error"]["code"] == "case_closed"


async def test_decline_return_visit_and_agenda(database_url: str, tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.agreements.room_helpers import stored_document

    async with running_server(database_url, tmp_path, notify_sender="outbox",
                              session_reminder_interval_s=0) as srv, \
            aiohttp.ClientSession() as http:
        li, adm, _ = await office_staff(srv, http)
        await make_user(srv, "clerk", "clerk")
        clerk = await login(srv, http, "clerk")
        st, case = await li.call("POST", "/api/v1/cases", {"number": "(2026)长北调字第9号",
                                                          "dispute_type": "neighbour"})
        await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": "accepted"})
        zone = ZoneInfo("Asia/Shanghai")
        starts = datetime.now(zone).replace(second=0, microsecond=0) + timedelta(hours=3)
        st, out = await li.call("POST", f"/api/v1/cases/{case['id']}/schedule", {
            "starts_at": starts.isoformat(), "expected_minutes": 60,
            "invitees": [{"name": "张三", "side": "A", "contact": "13800000001"}]})
        assert st == 201, out
        token = out["invites"][0]["token"]
        async with http.post(f"{srv.url}/api/v1/public/invites/decline",
                             json={"token": "x" * 43}) as r:
            assert r.status == 404
        async with http.post(f"{srv.url}/api/v1/public/invites/decline",
                             json={"token": token, "reason": "当天住院"}) as r:
            assert r.status == 200, await r.text()
        st, invs = await li.call("GET", f"/api/v1/sessions/{out['session']['id']}/invites")
        assert invs["items"][0]["declined_at"] and invs["items"][0]["decline_reason"] == "当天住院"
        st, ag = await li.call("GET", "/api/v1/agenda")
        assert ag["time_zone"] == "Asia/Shanghai"
        item = next(s for s in ag["sessions"] if s["case_id"] == case["id"])
        assert item["local_time"] == f"{starts:%Y-%m-%d %H:%M}"
        assert item["declined"][0]["label"] == "张三"
        assert item["declined"][0]["reason"] == "当天住院"
        st, err = await li.call("POST", f"/api/v1/cases/{case['id']}/return-visits", {
            "visitor": "李", "method": "phone", "performed": True})
        assert st == 409 and err["error"]["code"] == "no_agreement"

        # An agreement: the return visit falls due in 30 days; set it to tomorrow.
        s_id = out["session"]["id"]
        await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": "in_mediation"})
        await stored_document(srv, case["id"], s_id)
        st, agreed = await li.call("POST", f"/api/v1/cases/{case['id']}/moves",
                                   {"to": "agreed"})
        assert st == 200 and agreed["status"] == "agreed", agreed
        st, visits = await li.call("GET", f"/api/v1/cases/{case['id']}/return-visits")
        today = datetime.now(zone).date()
        assert visits["items"][0]["due_on"] == (today + timedelta(days=30)).isoformat()
        st, ag = await li.call("GET", "/api/v1/agenda")
        assert ag["return_visits"] == []
        st, err = await clerk.call("PUT", f"/api/v1/cases/{case['id']}/return-visit",
                                   {"due_on": (today + timedelta(days=1)).isoformat()})
        assert st == 403
        st, due = await li.call("PUT", f"/api/v1/cases/{case['id']}/return-visit",
                                {"due_on": (today + timedelta(days=1)).isoformat()})
        assert st == 200, due
        st, ag = await li.call("GET", "/api/v1/agenda")
        assert [v["case_id"] for v in ag["return_visits"]] == [case["id"]]
        st, clerk_ag = await clerk.call("GET", "/api/v1/agenda")
        assert [v["case_id"] for v in clerk_ag["return_visits"]] == [case["id"]]

        # Recorded: not performed; the case moves to 回访 and is flagged in the list.
        st, rec = await li.call("POST", f"/api/v1/cases/{case['id']}/return-visits", {
            "visitor": "李调解员", "method": "visit", "performed": False,
            "notes": "对方未按期赔偿"})
        assert st == 201 and rec["performed"] is False, rec
        st, listed = await li.call("GET", "/api/v1/cases")
        row = next(c for c in listed["items"] if c["id"] == case["id"])
        assert row["status"] == "return_visit" and row["unperformed"] is True
        st, ag = await li.call("GET", "/api/v1/agenda")
        assert ag["return_visits"] == []
        st, log = await li.call("GET", f"/api/v1/cases/{case['id']}/log")
        assert log["items"][-1]["to_status"] == "return_visit"
        assert log["items"][-1]["reason"] == "协议未履行"
        # A later visit finds it performed: the flag is lifted.
        st, rec = await li.call("POST", f"/api/v1/cases/{case['id']}/return-visits", {
            "visitor": "李调解员", "method": "online", "performed": True})
        st, visits = await li.call("GET", f"/api/v1/cases/{case['id']}/return-visits")
        assert len(visits["items"]) == 2 and visits["unperformed"] is False


async def test_wrong_status_links_are_limited_per_address(database_url: str,
                                                         tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path,
                              rate_limits={"apply_status_ip": (2, 600)}) as srv, \
            aiohttp.ClientSession() as http:
        _, _, office = await office_staff(srv, http)
        await plant_code(srv, "13800009999", "123123")
        out = await submit_application(srv, http, office, phone="13800009999", code="123123")
        # Right links are not counted; two wrong ones block the address, right ones too.
        for _ in range(3):
            assert (await status_of(srv, http, out["reference"], out["status_token"]))[0] == 200
        for token in ("wrong-token-1", "wrong-token-2"):
            st, err = await status_of(srv, http, out["reference"], token)
            assert (st, err["error"]["code"]) == (404, "not_found")
        st, err = await status_of(srv, http, out["reference"], out["status_token"])
        assert st == 429, err
