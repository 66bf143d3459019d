"""An application's life in real browsers: a person applies from the office's page on a
phone (390x844; the phone code and, later, the invitation reach the local SMS gateway);
the mediator accepts it and the case shows 受理 in its colour and with its label; the
mediator schedules a session and the invitation's link opens the join page, from which
the party says they cannot come; the agenda shows it; after an agreement (a sealed
document row, as test_case_states does) the return visit comes due on the agenda and is
recorded as not performed, which moves the case to 回访 and flags it in the list.
axe-core on every new page, in normal and large text; no CSP violation."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.signaling.harness import PASSWORD, login, make_user, running_server
from tests.signaling.sms_gateway import sender_settings, start_gateway
from tests.signaling.test_intake import sms

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def field_height(page: Any, selector: str) -> float:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["height"])


async def staff_login(page: Any, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-btn")


async def test_a_person_applies_on_a_phone_and_the_case_lives_to_its_return_visit(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    gw = await start_gateway("aliyun")
    try:
        async with running_server(db, tmp_path, session_reminder_interval_s=0,
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "mediator", role="mediator")
            office = (await login(srv, http, "mediator")).user["office_id"]

            # The poster: a QR code of the stable link.
            poster = await new_page(browser, srv.url)
            await poster.goto(f"/apply/{office}/poster")
            await expect(poster.locator("#poster-qr")).to_be_visible()
            await audit.check(poster, "apply-poster")

            # The person applies on a phone, in large text.
            phone = await new_page(browser, srv.url, phone=True)
            await phone.goto(f"/apply/{office}")
            await expect(phone.locator("#apply-notice")).to_contain_text("个人信息保护法")
            await audit.check(phone, "apply-phone")
            await phone.click("header [aria-pressed]")
            await expect(phone.locator("html.big")).to_have_count(1)
            await audit.check(phone, "apply-phone-big")
            await phone.fill("#apply-name", "张三")
            await phone.fill("#apply-phone", "13800001234")
            await phone.click("#apply-get-code")
            await expect(phone.locator("#apply-code-msg")).to_contain_text("1234")
            code = sms(gw, "application_code", "13800001234")[-1]["code"]
            await phone.fill("#apply-code", code)
            await phone.fill("#apply-address", "上海市长宁区新泾一村12号")
            await phone.fill("#apply-other-name", "李四")
            await phone.select_option("#apply-type", "neighbour")
            await phone.fill("#apply-description", "楼上漏水已三个月，协商不成，请求调解。")
            await phone.set_input_files("#apply-files", files=[
                {"name": "漏水.png", "mimeType": "image/png", "buffer": PNG}])
            await phone.check("#apply-consent")
            await audit.shot(phone, "apply-filled")
            await phone.click("#apply-submit")
            reference = await phone.locator("#apply-reference").text_content()
            assert reference and reference.startswith("SQ")
            await audit.check(phone, "apply-done")
            await phone.click("#apply-status-link")
            badge = phone.locator("#application-status .case-st")
            await expect(badge).to_have_attribute("data-state", "applied")
            await expect(badge).to_have_text("申请")
            await audit.check(phone, "application-status-big")

            # The mediator accepts it: 受理, in its colour and with its label.
            med = await new_page(browser, srv.url)
            await staff_login(med, "mediator")
            await med.locator("#case-list .row-link", has_text=reference).click()
            await expect(med.locator("#case-application")).to_contain_text("张三")
            await expect(med.locator("#case-application")).to_contain_text("漏水.png")
            await audit.check(med, "case-application")
            await med.click("#intake-accept")
            state = med.locator("#case-state h2 .case-st")
            await expect(state).to_have_attribute("data-state", "accepted")
            await expect(state).to_have_text("受理")
            assert await state.evaluate("e => getComputedStyle(e).backgroundColor") == \
                "rgb(219, 234, 254)"
            assert [m["decision"] for m in sms(gw, "application_decision", "13800001234")] \
                == ["已受理"]

            # A session with the applicant invited: the SMS carries a working link.
            await med.fill(".inv-name", "张三")
            await med.select_option(".inv-side", "A")
            await med.fill(".inv-contact", "13800001234")
            await med.click("#sch-submit")
            await expect(state).to_have_attribute("data-state", "scheduled")
            url = sms(gw, "session_invite", "13800001234")[-1]["url"]
            await phone.goto(url)
            await expect(phone.locator("#join-decline")).to_be_visible()
            await phone.click("#join-decline")
            await phone.fill("#decline-reason", "那天要去医院")
            await audit.check(phone, "decline-big")
            await phone.click("#decline-submit")
            await expect(phone.locator("#decline-msg")).to_contain_text("已告知")

            # The case page and the agenda show who cannot come.
            await med.reload()
            await expect(med.locator("#case-scheduled [data-declined]")).to_contain_text(
                "那天要去医院")
            await med.goto("/mediator")
            await expect(med.locator("#agenda [data-declined]")).to_contain_text("那天要去医院")
            await audit.check(med, "agenda")

            # An agreement; the return visit comes due and is recorded.
            from tests.agreements.room_helpers import stored_document

            st, cases = await (await login(srv, http, "mediator")).call("GET", "/api/v1/cases")
            case = cases["items"][0]
            st, sessions = await (await login(srv, http, "mediator")).call(
                "GET", f"/api/v1/cases/{case['id']}/sessions")
            await stored_document(srv, case["id"], sessions["items"][0]["id"])
            await med.goto(f"/mediator?case={case['id']}")
            await med.click('[data-move="in_mediation"]')
            await expect(state).to_have_attribute("data-state", "in_mediation")
            await med.click('[data-move="agreed"]')
            await expect(state).to_have_attribute("data-state", "agreed")
            due = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=30))
            await expect(med.locator("#rv-list")).to_contain_text(due.isoformat())
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
            await med.fill("#rv-due", today)
            await med.click("#rv-set-due")
            await expect(med.locator("#rv-list")).to_contain_text(today)
            await med.goto("/mediator")
            await expect(med.locator(f'#agenda-visits [data-visit-case="{case["id"]}"]')) \
                .to_be_visible()
            await med.goto(f"/mediator?case={case['id']}")
            await med.fill("#rv-visitor", "李调解员")
            await med.select_option("#rv-method", "visit")
            await med.select_option("#rv-performed", "no")
            await med.fill("#rv-notes", "对方未按期修缮")
            await med.click("#rv-record")
            await expect(state).to_have_attribute("data-state", "return_visit")
            await expect(state).to_have_text("回访")
            await expect(med.locator("#case-return-visits [data-unperformed]")).to_be_visible()
            await audit.check(med, "case-return-visit")
            await audit.shot(med, "case-return-visit")
            # The inline forms' inputs are as tall as the other fields (a flex basis meant
            # for their width once stretched them to several times their height).
            normal = await field_height(med, "#rv-visitor")
            for inline in ("#rv-due", "#session-title"):
                assert await field_height(med, inline) < normal * 1.3, inline
            await med.goto("/mediator")
            await expect(med.locator("#case-list [data-unperformed]")).to_have_count(1)
            await audit.check(med, "case-list-flagged")
            audit.save()
            assert audit.serious() == {}, audit.serious()
            assert audit.csp == {}, audit.csp
    finally:
        await gw.close()
