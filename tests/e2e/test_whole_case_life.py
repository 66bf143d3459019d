"""A whole case's life in real browsers, end to end, as issue 15's "Done when" reads it:
a person applies from the office's page on a phone (zh-CN; the phone code reaches the
local SMS gateway); the mediator accepts the application and the case shows 受理 in its
colour and with its label; the mediator schedules a session from the case page, the
invitations reach the SMS gateway and their links open the join page and the waiting room;
the session runs to an agreement signed by both parties and the mediator and sealed; the
case moves to 达成协议; the return visit comes due (its date set to today on the case page),
shows on the agenda and is recorded; the dashboard counts the case by state, by type, by
month, in the success rate and in the sealed agreements; an administrator adds an expert
and uploads a template through the console. axe-core runs on every page visited and finds
nothing serious or critical; no CSP violation."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect

from signaling.notify import Purpose
from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_agreement_signing import SEAL_TIMEOUT_MS, ed, sign_on
from tests.e2e.test_application import PNG, staff_login
from tests.e2e.test_mediation import join_by_link
from tests.signaling.harness import login, make_user, running_server
from tests.signaling.sms_gateway import LocalGateway, sender_settings, sms_of, start_gateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice"),
]

APPLICANT = {"name": "张三", "phone": "13800001234"}
RESPONDENT = {"name": "李四", "phone": "13800005678"}
MEDIATOR_PHONE = "13800000003"


def sms_to(gw: LocalGateway, purpose: Purpose, phone: str) -> list[dict[str, str]]:
    """The parameters of each ``purpose`` message the gateway accepted for ``phone``."""
    return [params for to, params in sms_of(gw, purpose) if to == phone]


async def admin_login(page: Any, username: str) -> None:
    await staff_login(page, username)
    await page.wait_for_url(lambda url: "/login" not in url)


async def test_a_case_lives_from_a_phone_application_to_the_dashboard_and_the_console(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    from agreements.builtin import builtin_template

    _, browser = browsers
    audit = Audit(artifacts)
    template = tmp_path / "协议书模板.docx"
    template.write_bytes(builtin_template("agreement", "zh-CN"))
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    gw = await start_gateway("aliyun")
    try:
        async with running_server(db, tmp_path, session_reminder_interval_s=0,
                                  **sender_settings("aliyun", gw)) as srv, \
                aiohttp.ClientSession() as http:
            await make_user(srv, "mediator", role="mediator")
            await make_user(srv, "admin", role="admin")
            office = (await login(srv, http, "mediator")).user["office_id"]

            # -- a person applies from the office's page, on a phone ---------------------------
            phone = await new_page(browser, srv.url, phone=True)
            await phone.goto(f"/apply/{office}")
            await expect(phone.locator("#apply-notice")).to_contain_text("个人信息保护法")
            await audit.check(phone, "apply-phone")
            await phone.fill("#apply-name", APPLICANT["name"])
            await phone.fill("#apply-phone", APPLICANT["phone"])
            await phone.click("#apply-get-code")
            await expect(phone.locator("#apply-code-msg")).to_contain_text(APPLICANT["phone"][-4:])
            code = sms_to(gw, "application_code", APPLICANT["phone"])[-1]["code"]
            await phone.fill("#apply-code", code)
            await phone.fill("#apply-address", "上海市长宁区新泾一村12号")
            await phone.fill("#apply-other-name", RESPONDENT["name"])
            await phone.select_option("#apply-type", "neighbour")
            await phone.fill("#apply-description", "楼上漏水已三个月，协商不成，请求调解。")
            await phone.set_input_files("#apply-files", files=[
                {"name": "漏水.png", "mimeType": "image/png", "buffer": PNG}])
            await phone.check("#apply-consent")
            await audit.check(phone, "apply-filled")
            await phone.click("#apply-submit")
            reference_el = phone.locator("#apply-reference")
            await expect(reference_el).to_be_visible()
            reference = (await reference_el.text_content()) or ""
            assert reference.startswith("SQ"), reference
            await audit.check(phone, "apply-done")
            await phone.click("#apply-status-link")
            badge = phone.locator("#application-status .case-st")
            await expect(badge).to_have_attribute("data-state", "applied")
            await expect(badge).to_have_text("申请")
            await audit.check(phone, "application-status")

            # -- the mediator accepts it: 受理, in its colour and with its label -----------------
            med = await new_page(browser, srv.url)
            await staff_login(med, "mediator")
            await med.locator("#case-list .row-link", has_text=reference).click()
            await expect(med.locator("#case-application")).to_contain_text(APPLICANT["name"])
            await audit.check(med, "case-application")
            await med.click("#intake-accept")
            state = med.locator("#case-state h2 .case-st")
            await expect(state).to_have_attribute("data-state", "accepted")
            await expect(state).to_have_text("受理")
            assert await state.evaluate("e => getComputedStyle(e).backgroundColor") == \
                "rgb(219, 234, 254)"
            assert [m["decision"] for m in sms_to(gw, "application_decision",
                                                   APPLICANT["phone"])] == ["已受理"]
            await audit.check(med, "case-accepted")

            # -- a session scheduled from the browser; the invitations reach the gateway --------
            await med.fill(".inv-name", APPLICANT["name"])
            await med.select_option(".inv-side", "A")
            await med.fill(".inv-contact", APPLICANT["phone"])
            await med.click("#sch-add")
            await med.locator(".inv-name").nth(1).fill(RESPONDENT["name"])
            await med.locator(".inv-side").nth(1).select_option("B")
            await med.locator(".inv-contact").nth(1).fill(RESPONDENT["phone"])
            await audit.check(med, "schedule-form")
            await med.click("#sch-submit")
            await expect(state).to_have_attribute("data-state", "scheduled")
            await expect(state).to_have_text("排期")
            await expect(med.locator("#case-scheduled [data-invite]")).to_have_count(2)
            await expect(med.locator("#case-scheduled")).to_contain_text("已发送")
            await audit.check(med, "case-scheduled")
            urls = {}
            for who in (APPLICANT, RESPONDENT):
                sent = sms_to(gw, "session_invite", who["phone"])
                assert len(sent) == 1, sent
                urls[who["name"]] = sent[0]["url"]
                assert urls[who["name"]].startswith(srv.url), urls[who["name"]]

            # The links work: each party opens theirs in a browser and reaches the room.
            a = await new_page(browser, srv.url, phone=True)
            b = await new_page(browser, srv.url, phone=True)
            await join_by_link(a, urls[APPLICANT["name"]], APPLICANT["name"], audit, "party-a")
            await join_by_link(b, urls[RESPONDENT["name"]], RESPONDENT["name"], audit, "party-b")

            # The mediator enters the scheduled session's room and lets them in.
            await med.get_by_role("link", name="进入调解室").click()
            await expect(med.locator("#board")).to_be_visible()
            await expect(med.locator(".lobby-row")).to_have_count(2)
            await audit.check(med, "console-lobby")
            for who in (APPLICANT, RESPONDENT):
                await med.locator(".lobby-row", has_text=who["name"]).get_by_role(
                    "button", name=f"让其进入 {who['name']}").click()
            await expect(med.locator(".lobby-row")).to_have_count(0)
            for page, tag in ((a, "a"), (b, "b")):
                await expect(page.locator("#waiting-title")).to_have_count(0)
                await audit.check(page, f"room-party-{tag}")

            # -- the session runs to a sealed agreement ------------------------------------------
            await med.click("#draft-editor-open")
            await expect(med.locator("#draft-editor")).to_be_visible()
            await expect(med.locator(ed("parties.0.name"))).to_have_value(APPLICANT["name"])
            await expect(med.locator(ed("parties.1.name"))).to_have_value(RESPONDENT["name"])
            await med.fill(ed("parties.0.phone"), APPLICANT["phone"])
            await med.fill(ed("parties.1.phone"), RESPONDENT["phone"])
            await med.fill(ed("facts"), "申请人住房因楼上漏水受损，双方协商未果。")
            await med.fill(ed("clauses.0.obligation"), "修复漏水并赔偿损失")
            await med.fill(ed("clauses.0.amount"), "3000")
            await med.select_option(ed("clauses.0.obligor"), "P2")
            await med.select_option(ed("clauses.0.obligee"), "P1")
            await med.fill(ed("mediator.phone"), MEDIATOR_PHONE)
            await med.select_option(ed("recorder_mode"), "mediator")
            await audit.check(med, "editor")
            await med.click("#draft-save")
            await expect(med.locator("#draft-editor")).to_be_hidden()
            for page, tag in ((a, "a"), (b, "b")):
                await expect(page.locator(".confirm-card")).to_be_visible()
                await audit.check(page, f"confirm-{tag}")
                await page.click("#confirm-ok")
                await expect(page.locator(".confirm-done")).to_be_visible()
            await expect(med.locator('.confirmations [data-party="P1"]')).to_contain_text("已确认")
            await expect(med.locator('.confirmations [data-party="P2"]')).to_contain_text("已确认")
            await med.click("#signing-open")
            await sign_on(a, gw, APPLICANT["phone"], audit, "party-a", typed=APPLICANT["name"])
            await sign_on(b, gw, RESPONDENT["phone"], audit, "party-b", typed=RESPONDENT["name"])
            await sign_on(med, gw, MEDIATOR_PHONE, audit, "mediator", typed="Mediator")
            await expect(a.locator("#my-copy")).to_be_visible(timeout=SEAL_TIMEOUT_MS)
            await audit.check(a, "copy-a")
            for p in (a, b):
                await audit.csp_of(p, "party-end")
                await p.context.close()

            # -- the case moves to 达成协议 -------------------------------------------------------
            st, cases = await (await login(srv, http, "mediator")).call("GET", "/api/v1/cases")
            assert st == 200, cases
            case = cases["items"][0]
            await med.goto(f"/mediator?case={case['id']}")
            await expect(state).to_be_visible()
            if await state.get_attribute("data-state") != "in_mediation":
                await med.click('[data-move="in_mediation"]')
                await expect(state).to_have_attribute("data-state", "in_mediation")
            await med.click('[data-move="agreed"]')
            await expect(state).to_have_attribute("data-state", "agreed")
            await expect(state).to_have_text("达成协议")
            await audit.check(med, "case-agreed")

            # -- the return visit comes due today, shows on the agenda and is recorded ----------
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
            await med.fill("#rv-due", today)
            async with med.expect_response(lambda r: "/return-visit" in r.url
                                           and r.request.method != "GET") as set_due:
                await med.click("#rv-set-due")
            assert (await set_due.value).ok
            await expect(med.locator("#rv-list")).to_contain_text(today)
            await med.goto("/mediator")
            await expect(med.locator(f'#agenda-visits [data-visit-case="{case["id"]}"]')) \
                .to_be_visible()
            await audit.check(med, "agenda-visit-due")
            await med.goto(f"/mediator?case={case['id']}")
            await med.fill("#rv-visitor", "李调解员")
            await med.select_option("#rv-method", "phone")
            await med.select_option("#rv-performed", "yes")
            await med.fill("#rv-notes", "漏水已修复，赔偿款已付清")
            await med.click("#rv-record")
            await expect(state).to_have_attribute("data-state", "return_visit")
            await expect(state).to_have_text("回访")
            await expect(med.locator("#rv-list")).to_contain_text("李调解员")
            await expect(med.locator("#case-return-visits [data-unperformed]")).to_have_count(0)
            await audit.check(med, "case-return-visit")
            await audit.shot(med, "case-return-visit")
            await audit.csp_of(med, "mediator-end")

            # -- the dashboard counts the case everywhere ----------------------------------------
            adm = await new_page(browser, srv.url)
            await admin_login(adm, "admin")
            await adm.click("#to-office")
            await expect(adm.locator("#kpi-cases .kpi-value")).to_have_text("1")
            await expect(adm.locator("#kpi-success .kpi-value")).to_have_text("100%")
            await expect(adm.locator("#kpi-sealed .kpi-value")).to_have_text("1")
            await expect(adm.locator("#kpi-online .kpi-value")).to_have_text("1")
            await expect(adm.locator("#kpi-median .kpi-value")).to_have_text(re.compile(r"^\d+$"))
            month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
            for chart, key in (("by-state", "回访"), ("by-type", "邻里纠纷"), ("by-month", month)):
                await adm.click(f"#toggle-{chart}")
                rows = adm.locator(f"#table-{chart} tbody tr")
                await expect(rows).to_have_count(1)
                await expect(rows.locator("th")).to_have_text(key)
                await expect(rows.locator("td")).to_have_text("1")
            await audit.check(adm, "dashboard")
            await audit.shot(adm, "dashboard")

            # -- the console: an expert added, a template uploaded -------------------------------
            await adm.click("#tab-experts")
            await adm.fill("#exp-username", "wang-expert")
            await adm.fill("#exp-name", "王律师")
            await adm.fill("#exp-password", "a-long-password")
            await adm.check('input[name="domain"][value="legal"]')
            await adm.fill("#exp-org", "长宁律师事务所")
            await adm.click("#expert-add")
            await expect(adm.locator("#expert-rows")).to_contain_text("王律师")
            await audit.check(adm, "experts")
            await adm.click("#tab-templates")
            await adm.set_input_files("#tpl-file", str(template))
            await adm.fill("#tpl-name", "本会协议书")
            await adm.click("#tpl-submit")
            await expect(adm.locator("#template-result")).to_contain_text("本会协议书")
            await expect(adm.locator("#template-rows")).to_contain_text("本会协议书")
            await audit.check(adm, "templates")
            await audit.shot(adm, "templates")
            await audit.csp_of(adm, "admin-end")
            audit.save()
            assert audit.serious() == {}, audit.serious()
            assert audit.csp == {}, audit.csp
    finally:
        await gw.close()
