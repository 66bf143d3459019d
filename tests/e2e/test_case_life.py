"""A case's life in a real browser: the mediator opens a case, sees it as 申请 in its colour,
accepts it, schedules a session with an invitee (the invitation goes out, the link is
listed and then revoked), terminates the case with a reason, is refused 归档 without a
record; the list shows the state's label and colour; the clerk reads the case without any
move offered. axe-core finds nothing serious; no CSP violation."""

from __future__ import annotations

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


async def test_a_case_moves_through_its_states_on_the_case_page(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    async with running_server(db, tmp_path, session_reminder_interval_s=0,
                              notify_sender="outbox") as srv:
        await make_user(srv, "mediator", role="mediator")
        await make_user(srv, "clerk", role="clerk")
        med = await new_page(browser, srv.url)
        await login(med, "mediator")
        await med.fill("#case-number", "(2026)长北调字第11号")
        await med.fill("#case-type", "邻里纠纷")
        await med.click("#case-create")

        badge = med.locator("#case-state h2 .case-st")
        await expect(badge).to_have_attribute("data-state", "applied")
        await expect(badge).to_have_text("申请")
        await med.click('[data-move="accepted"]')
        await expect(badge).to_have_attribute("data-state", "accepted")
        assert await badge.evaluate("e => getComputedStyle(e).backgroundColor") == \
            "rgb(219, 234, 254)"

        # Schedule a session: the invitation goes out; the link is listed, then revoked.
        await med.fill(".inv-name", "张三")
        await med.select_option(".inv-side", "A")
        await med.fill(".inv-contact", "13800000001")
        await med.click("#sch-submit")
        await expect(badge).to_have_attribute("data-state", "scheduled")
        row = med.locator("#case-scheduled [data-invite]")
        await expect(row).to_contain_text("张三")
        await expect(row).to_contain_text("*******0001")
        await expect(row).to_contain_text("已发送")
        await audit.check(med, "case-scheduled")
        await audit.shot(med, "case-scheduled")
        await row.locator("[data-revoke]").click()
        await expect(row).to_contain_text("已撤销")

        # 终止 needs a reason; 归档 needs a sealed record.
        await med.click('[data-move="terminated"]')
        await med.click("#case-reason-confirm")
        await expect(med.locator("#case-move-error")).not_to_be_empty()
        await med.fill("#case-reason-text", "申请人撤回申请")
        await med.click("#case-reason-confirm")
        await expect(badge).to_have_attribute("data-state", "terminated")
        await expect(med.locator("#case-log li")).to_have_count(4)
        await expect(med.locator("#case-log")).to_contain_text("申请人撤回申请")
        await med.click('[data-move="archived"]')
        await expect(med.locator("#case-move-error")).not_to_be_empty()
        await expect(badge).to_have_attribute("data-state", "terminated")
        await audit.check(med, "case-terminated")
        await audit.shot(med, "case-terminated")

        await med.goto("/mediator")
        listed = med.locator("#case-list .case-st")
        await expect(listed).to_have_text("终止")
        await expect(listed).to_have_attribute("data-state", "terminated")
        await audit.check(med, "case-list")

        clerk = await new_page(browser, srv.url)
        await login(clerk, "clerk")
        await clerk.fill("#clerk-q", "长北")
        await clerk.click("form[role=search] button")
        await clerk.click("#clerk-cases .row-link")
        await expect(clerk.locator("#case-state .case-st").first).to_have_text("终止")
        await expect(clerk.locator("#case-moves")).to_have_count(0)
        await audit.check(clerk, "clerk-case")
        audit.save()
        assert audit.serious() == {}, audit.serious()
        assert audit.csp == {}, audit.csp
