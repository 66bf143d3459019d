"""The office page in a real browser: an administrator adds an expert and uploads a template
(a broken one first, refused with its reason) and changes the office's dispute types (seen
on its application page) through the console; the dashboard counts a
known case, shows a chart's table view and downloads its CSV; an office head sees the
dashboard too; axe-core finds nothing serious on the new pages, in normal and large text,
on a phone and a desktop; no CSP violation."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.signaling.harness import PASSWORD, make_user, running_server

pytestmark = pytest.mark.browser


async def login(page: Any, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-btn")
    await page.wait_for_url(lambda url: "/login" not in url)


async def test_an_administrator_runs_the_office_from_the_console(
    browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path
) -> None:
    from agreements.builtin import builtin_template

    _, browser = browsers
    audit = Audit(artifacts)
    good = tmp_path / "协议书模板.docx"
    good.write_bytes(builtin_template("agreement", "zh-CN"))
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"this is not a word file")
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    async with running_server(db, tmp_path) as srv:
        await make_user(srv, "admin", role="admin")
        await make_user(srv, "head", role="head")
        await make_user(srv, "li", role="mediator")
        from aiohttp import ClientSession

        from tests.signaling.harness import login as api_login

        async with ClientSession() as http:
            li = await api_login(srv, http, "li")
            st, case = await li.call(
                "POST",
                "/api/v1/cases",
                {"number": "(2026)长北调字第7号", "dispute_type": "邻里纠纷"},
            )
            assert st == 201
            st, _ = await li.call("POST", f"/api/v1/cases/{case['id']}/moves", {"to": "accepted"})
            assert st == 200

        page = await new_page(browser, srv.url)
        await login(page, "admin")
        await page.click("#to-office")
        await expect(page.locator("#kpi-cases .kpi-value")).to_have_text("1")
        await expect(page.locator("#chart-by-state")).to_be_visible()
        await page.click("#toggle-by-state")
        table = page.locator("#table-by-state")
        await expect(table).to_be_visible()
        await expect(table.locator("tbody tr")).to_have_count(1)
        await expect(table).to_contain_text("受理")
        await expect(table).to_contain_text("1")
        async with page.expect_download() as dl:
            await page.click("#csv-by-type")
        saved = await (await dl.value).path()
        rows = list(csv.reader(io.StringIO(Path(saved).read_text("utf-8-sig"))))
        assert rows == [["项目", "数量"], ["邻里纠纷", "1"]]
        href = await page.locator("#register-xlsx").get_attribute("href")
        assert href and href.startswith("/api/v1/register.xlsx")
        await audit.check(page, "dashboard-desktop")
        await audit.shot(page, "dashboard-desktop")

        # The console: an expert added (an account and a directory entry).
        await page.click("#tab-experts")
        await page.fill("#exp-username", "wang-expert")
        await page.fill("#exp-name", "王律师")
        await page.fill("#exp-password", "a-long-password")
        await page.check('input[name="domain"][value="legal"]')
        await page.fill("#exp-org", "长宁律师事务所")
        await page.click("#expert-add")
        await expect(page.locator("#expert-rows")).to_contain_text("王律师")
        await expect(page.locator("#expert-rows")).to_contain_text("长宁律师事务所")
        await audit.check(page, "experts")
        await audit.shot(page, "experts")

        # A template: a broken file is refused with the reason; the real one is stored.
        await page.click("#tab-templates")
        await page.set_input_files("#tpl-file", str(bad))
        await page.click("#tpl-submit")
        await expect(page.locator("#template-result .form-error")).to_be_visible()
        await page.set_input_files("#tpl-file", str(good))
        await page.fill("#tpl-name", "本会协议书")
        await page.click("#tpl-submit")
        await expect(page.locator("#template-result")).to_contain_text("本会协议书")
        await expect(page.locator("#template-rows")).to_contain_text("本会协议书")
        tpl = page.locator('[data-template="本会协议书"]')
        async with page.expect_download() as dl:
            await tpl.locator("a[download]").click()
        assert Path(await (await dl.value).path()).read_bytes()[:2] == b"PK"
        await tpl.locator("[data-make-default]").click()
        await expect(tpl.locator("[data-default]")).to_be_visible()
        await audit.check(page, "templates")

        # The office's areas for intake: one added with its keywords and mediator, saved,
        # and read back from the server.
        await page.click("#tab-areas")
        await page.click("#area-add")
        await page.fill('[data-area-name="0"]', "北新泾街道")
        await page.fill('[data-area-keywords="0"]', "北新泾, 新泾一村")
        await page.select_option('[data-area-mediator="0"]', label="Li")
        # The barrier is the PUT's answer: the field holds the name before the save too.
        async with page.expect_response(lambda r: r.url.endswith("/api/v1/office/areas")
                                        and r.request.method == "PUT") as saved:
            await page.click("#areas-save")
        assert (await saved.value).ok
        await expect(page.locator('[data-area-name="0"]')).to_have_value("北新泾街道")
        async with ClientSession() as http:
            adm = await api_login(srv, http, "admin")
            st, got = await adm.call("GET", "/api/v1/office/areas")
            assert st == 200, got
            assert [(a["name"], a["keywords"], a["mediator_id"] is not None)
                    for a in got["items"]] == [("北新泾街道", ["北新泾", "新泾一村"], True)]
        await audit.check(page, "areas")
        await audit.shot(page, "areas")
        # The office's dispute types: one added, one deactivated; the application page
        # offers the office's list as it now stands.
        await page.click("#tab-types")
        await expect(page.locator("#type-rows tr")).to_have_count(9)
        await page.fill("#type-new-name", "拆迁安置纠纷")
        await page.click("#type-add")
        await expect(page.locator("#type-rows tr")).to_have_count(10)
        await expect(page.locator("#type-rows tr").last.locator("input")).to_have_value(
            "拆迁安置纠纷")
        await page.click('[data-type-toggle="consumer"]')
        await expect(page.locator('tr[data-type-key="consumer"]')).to_contain_text("已停用")
        await audit.check(page, "types")
        await audit.shot(page, "types")
        applicant = await new_page(browser, srv.url, phone=True)
        await applicant.goto(f"/apply/{adm.user['office_id']}")
        offered = applicant.locator("#apply-type option")
        await expect(offered.filter(has_text="拆迁安置纠纷")).to_have_count(1)
        await expect(offered.filter(has_text="消费纠纷")).to_have_count(0)
        await expect(offered.filter(has_text="邻里纠纷")).to_have_count(1)
        await applicant.close()
        # The mediator's new-case form offers the same list and fills the name in.
        mediator = await new_page(browser, srv.url)
        await login(mediator, "li")
        picks = mediator.locator("#case-type-pick option")
        await expect(picks.filter(has_text="拆迁安置纠纷")).to_have_count(1)
        await expect(picks.filter(has_text="消费纠纷")).to_have_count(0)
        await mediator.select_option("#case-type-pick", label="拆迁安置纠纷")
        await expect(mediator.locator("#case-type")).to_have_value("拆迁安置纠纷")
        await audit.check(mediator, "new-case-types")
        await mediator.close()
        # 单位管理: the administrator creates an office of the city that lends its experts.
        await page.click("#tab-offices")
        await page.fill("#office-create-name", "西湖区人民调解委员会")
        await page.fill("#office-create-city", "杭州市")
        await page.fill("#office-create-phone", "0571-12348")
        await page.check("#office-create-share")
        await page.click("#office-create button[type=submit]")
        row = page.locator('[data-office="西湖区人民调解委员会"]')
        await expect(row).to_contain_text("杭州市")
        await expect(row).to_contain_text("0571-12348")
        await audit.check(page, "offices")
        await page.click("#tab-unit")
        await expect(page.locator("#unit-form-name")).to_be_visible()
        await audit.check(page, "unit")
        for tab in ("staff", "retention", "ledger"):
            await page.click(f"#tab-{tab}")
            await expect(page.locator(f"#tab-{tab}")).to_have_attribute("aria-current", "page")
            if tab == "retention":
                await expect(page.locator("#retention-table")).to_contain_text("365")
            if tab == "ledger":
                await expect(page.locator("#ledger-rows")).to_contain_text("王律师")
                await expect(page.locator("#ledger-total")).to_have_text("0")
            if tab == "staff":
                await expect(page.locator("#staff-rows")).to_contain_text("wang-expert")
                # The mediator's mobile number for return-visit texts, shown masked.
                await page.fill('[data-phone-of="li"]', "138 0000 7777")
                await page.press('[data-phone-of="li"]', "Enter")
                await expect(page.locator('[data-phone-shown="li"]')).to_have_text("*******7777")
            await audit.check(page, tab)

        # An office head, on a phone, in large text: the dashboard and the dispute types,
        # none of the administrator's other tabs.
        phone = await new_page(browser, srv.url, phone=True)
        await login(phone, "head")
        await expect(phone.locator("#kpi-cases .kpi-value")).to_have_text("1")
        assert await phone.locator("#tab-staff").count() == 0
        assert await phone.locator("#tab-offices").count() == 0
        # 本单位: the head changes the address and the phone, nothing else is offered.
        await phone.click("#tab-unit")
        await phone.fill("#unit-form-address", "剑河路1号")
        await phone.fill("#unit-form-phone", "021-62123456")
        assert await phone.locator("#unit-form-name").count() == 0
        assert await phone.locator("#unit-form-share").count() == 0
        await phone.click("#unit-form button[type=submit]")
        await expect(phone.locator("#unit-form-address")).to_have_value("剑河路1号")
        await audit.check(phone, "unit-phone")
        await phone.click("#tab-dashboard")
        await audit.check(phone, "dashboard-phone")
        await phone.click(".topbar-tools [aria-pressed]")
        await phone.click("#toggle-by-month")
        await audit.check(phone, "dashboard-phone-big")
        await audit.shot(phone, "dashboard-phone-big")
        await page.click(".topbar-tools [aria-pressed]")
        await page.click("#tab-dashboard")
        await expect(page.locator("#kpi-cases .kpi-value")).to_have_text("1")
        await audit.check(page, "dashboard-desktop-big")
    audit.save()
    assert not audit.serious(), audit.serious()
    assert not audit.csp, audit.csp
