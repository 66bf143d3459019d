"""A phone shared by two people of one family, in Chromium: at the device check they tick
"多人共用此设备" and type their names; the mediator sees them in the lobby and marks the
seat as shared from the participant list; in the room the first person starts her reading
and reads the sentence shown on screen while the level meter runs (the speaking browser's
microphone plays real Mandarin speech), and captions from that seat then carry her name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_mediation import login
from tests.signaling.harness import make_user, running_server

pytestmark = pytest.mark.browser


async def test_a_shared_phone_enrolls_a_voice_and_its_captions_name_the_person(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    speaking, browser = browsers
    audit = Audit(artifacts)
    t0 = time.monotonic()
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}", tmp_path,
                              media=True, transcription=True) as srv:
        print(f"server up in {time.monotonic() - t0:.1f}s", flush=True)
        await make_user(srv, "mediator", role="mediator")
        med = await new_page(browser, srv.url)
        await login(med, "mediator")
        await med.fill("#case-number", "(2026)长北调字第9号")
        await med.fill("#case-type", "赡养纠纷")
        await med.click("#case-create")
        await med.click("#session-create")
        await expect(med.locator("#board")).to_be_visible()
        await med.select_option("#inv-role", "party")
        await med.select_option("#inv-side", "A")
        await med.fill("#inv-label", "张家")
        await med.click("#invite-create")
        url = await med.locator('.invite[data-side="A"] .invite-url').input_value()

        # The device check: two people share the phone; a tick without two names is refused.
        a = await new_page(speaking, srv.url, phone=True)
        await a.goto(url)
        await expect(a.locator(".dev-status.ok")).to_be_visible()
        await expect(a.locator("#shared-body")).to_be_hidden()
        await a.check("#shared-check")
        await a.fill("#name", "张家")
        await a.check("#consent")
        await a.fill("#shared-name-1", "王芳")
        await a.click("#join-btn")
        await expect(a.locator("#join-error")).to_have_text("多人共用时，请至少填写两个人的姓名。")
        await expect(a.locator("#shared-name-2")).to_be_focused()
        await a.fill("#shared-name-2", "李雷")
        await audit.check(a, "join-shared-device")
        await audit.shot(a, "shared-phone-device-check")
        assert await a.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await a.click("#join-btn")
        await expect(a.locator("#waiting-title")).to_be_visible()

        # The mediator sees who share it before admitting, and marks the seat in one click.
        lobby = med.locator(".lobby-row", has_text="张家")
        await expect(lobby).to_contain_text("自报 2 人共用（王芳、李雷）")
        await lobby.get_by_role("button", name="让其进入 张家").click()
        await expect(a.locator(".space-banner.in-joint")).to_be_visible()
        await expect(a.locator("#enroll-pending")).to_contain_text("已告知调解员：王芳、李雷 共用此设备")
        row = med.locator(".person", has_text="张家")
        await expect(row.locator(".shared-declared")).to_contain_text("自报共用：王芳、李雷")
        await row.get_by_role("button", name="标记为 2 人共用").click()
        await expect(row.get_by_label("共用人数: 张家")).to_have_value("2")
        await expect(a.locator("#enroll-panel")).to_contain_text("这台设备由 2 人共用")
        people = a.locator("#enroll-people li")
        await expect(people).to_have_count(2)
        await expect(people.nth(1)).to_contain_text("李雷")
        await audit.check(a, "enroll-panel")
        await audit.shot(a, "shared-phone-enroll")

        # The first person starts her reading: the sentence is on screen, the meter runs.
        await a.get_by_role("button", name="开始朗读：王芳").click()
        await expect(a.locator("#my-enroll-waiting")).to_contain_text("请 王芳 现在靠近麦克风")
        await expect(a.locator("#my-enroll-sentence")).to_have_text(
            "我是王芳，今天来参加调解，我会如实说明情况。")
        await expect(a.get_by_role("button", name="开始朗读：李雷")).to_be_disabled()
        await a.wait_for_function(
            "() => (document.querySelector('#my-enroll-meter')?.value ?? 0) > 0.01")
        await audit.shot(a, "shared-phone-reading")
        await expect(a.locator("#my-enroll-voices")).to_contain_text("王芳", timeout=90_000)
        await expect(people.nth(0)).to_contain_text("已录入")
        await expect(a.get_by_role("button", name="开始朗读：李雷")).to_be_enabled()
        await expect(row.locator(".enroll-done")).to_contain_text("已录入：王芳")
        await audit.shot(med, "mediator-shared-seat")

        # Her next captions carry her name, on the mediator's page too.
        await expect(med.locator(".caption .cap-who, .transcript li", has_text="王芳").first
                     ).to_be_visible(timeout=90_000)
        await a.click("#ctl-mic")  # stop talking before the server stops
        audit.save()
        assert not audit.serious(), audit.serious()
        assert not audit.csp, audit.csp
