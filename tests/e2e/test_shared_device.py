"""A phone shared by two people of one family, in Chromium: the mediator marks the seat as
shared from the participant list, the party types a name and says one sentence (the
speaking browser's microphone plays real Mandarin speech), and captions from that seat
then carry the enrolled name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_mediation import join_by_link, login
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

        a = await new_page(speaking, srv.url, phone=True)
        await join_by_link(a, url, "张家", audit, "shared-phone")
        await med.locator(".lobby-row", has_text="张家").get_by_role(
            "button", name="让其进入 张家").click()
        await expect(a.locator(".space-banner.in-joint")).to_be_visible()

        # The mediator marks the phone as shared by two people, from the participant list.
        row = med.locator(".person", has_text="张家")
        await row.get_by_label("共用人数: 张家").select_option("2")
        await expect(a.locator("#enroll-panel")).to_contain_text("这台设备由 2 人共用")
        await audit.check(a, "enroll-panel")
        await audit.shot(a, "shared-phone-enroll")

        # The party types the first person's name; she says her sentence.
        await a.fill("#my-enroll-name", "王芳")
        await a.click("#my-enroll-enroll")
        await expect(a.locator("#my-enroll-waiting")).to_contain_text("请 王芳 现在对着麦克风说一句话")
        await expect(a.locator("#my-enroll-voices")).to_contain_text("王芳", timeout=90_000)
        await expect(row.locator(".enroll-done")).to_contain_text("已录入：王芳")
        await audit.shot(med, "mediator-shared-seat")

        # Her next captions carry her name, on the mediator's page too.
        await expect(med.locator(".caption .cap-who, .transcript li", has_text="王芳").first
                     ).to_be_visible(timeout=90_000)
        await a.click("#ctl-mic")  # stop talking before the server stops
        audit.save()
        assert not audit.serious(), audit.serious()
        assert not audit.csp, audit.csp
