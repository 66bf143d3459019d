"""The room as people really use it, in a real browser: a party whose network drops comes
back to the same space by itself while the mediator sees "reconnecting", never "left";
a party switches camera and microphone mid-session and media keeps flowing without a new
seat; the waiting room hears the mediator; the clerk reads the event log in Chinese."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import CHROMIUM, FLAGS, Audit, new_page
from tests.e2e.test_mediation import join_by_link, login, media_flows
from tests.signaling.harness import Server, make_user, running_server
from tests.signaling.harness import login as api_login

pytestmark = pytest.mark.browser

OFFLINE_S = 10
"""How long the party's network is gone: well inside the server's grace period."""


async def open_session(med: Any) -> str:
    await login(med, "mediator")
    await expect(med.locator("#case-number")).to_be_visible()
    await med.fill("#case-number", "(2026)长北调字第9号")
    await med.fill("#case-type", "邻里纠纷")
    await med.click("#case-create")
    await med.click("#session-create")
    await expect(med.locator("#board")).to_be_visible()
    return str(parse_qs(urlparse(med.url).query)["session"][0])


async def invite_link(med: Any, side: str, label: str) -> str:
    await med.select_option("#inv-role", "party")
    await med.select_option("#inv-side", side)
    await med.fill("#inv-label", label)
    await med.click("#invite-create")
    return str(await med.locator(f'.invite[data-side="{side}"] .invite-url').first.input_value())


async def admit(med: Any, party: Any, name: str) -> str:
    await med.locator(".lobby-row", has_text=name).get_by_role("button", name=f"让其进入 {name}").click()
    await expect(party.locator(".space-banner.in-joint")).to_be_visible()
    pid = await med.locator(f'.person:has-text("{name}")').get_attribute("data-pid")
    assert pid
    return str(pid)


async def sending(page: Any, device_id: str, timeout: float = 15.0) -> None:
    """The page's peer connection sends a track of this device (after replaceTrack)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        ids = await page.evaluate(
            "() => window.tiaojieMedia.pc.getSenders().map(s => s.track && s.track.getSettings().deviceId)")
        if device_id in ids:
            return
        if loop.time() > end:
            raise AssertionError(f"{device_id} is not sent: {ids}")
        await asyncio.sleep(0.2)


async def events_of(srv: Server, session_id: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        staff = await api_login(srv, http, "mediator")
        st, log = await staff.call("GET", f"/api/v1/sessions/{session_id}/events")
        assert st == 200, log
        return list(log["items"])


async def test_a_party_offline_for_ten_seconds_comes_back_to_the_same_space(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    speaking, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    async with running_server(db, tmp_path, media=True, reconnect_grace_s=60) as srv:
        await make_user(srv, "mediator", role="mediator")
        med = await new_page(browser, srv.url)
        session_id = await open_session(med)
        url = await invite_link(med, "A", "张三")
        a = await new_page(speaking, srv.url, phone=True)
        await join_by_link(a, url, "张三", audit, "net-partyA")
        pid = await admit(med, a, "张三")
        med_pid = await med.locator('.person:has-text("（我）")').get_attribute("data-pid")
        assert med_pid
        # A caucus with the mediator: coming back must put the party in it again.
        await med.click("#caucus-A")
        await expect(a.locator(".space-banner.in-caucus")).to_be_visible()
        await media_flows(med, pid)
        await media_flows(a, med_pid)

        # -- the party's network goes away ---------------------------------------------------
        await a.context.set_offline(True)
        await expect(a.locator('#room-notice[data-net="reconnecting"]')).to_be_visible()
        await expect(a.locator("#room-notice")).to_contain_text("正在重新连接")
        row = med.locator(f'.person[data-pid="{pid}"]')
        await expect(row).to_have_attribute("data-connection", "reconnecting")
        await expect(row).to_contain_text("正在重新连接")
        tile = med.locator(f'.tile[data-pid="{pid}"]')
        await expect(tile).to_have_attribute("data-connection", "reconnecting")
        await audit.check(a, "party-reconnecting")
        await audit.check(med, "mediator-sees-reconnecting")
        await audit.shot(a, "party-offline")
        await audit.shot(med, "mediator-sees-reconnecting")
        await asyncio.sleep(OFFLINE_S)  # the outage itself, not a wait for an outcome
        # Ten seconds on, still seated and shown as reconnecting, never as gone.
        await expect(row).to_have_attribute("data-connection", "reconnecting")
        await expect(tile).to_be_visible()

        # -- and comes back ------------------------------------------------------------------
        await a.context.set_offline(False)
        await expect(a.locator("#room-notice")).to_have_attribute("data-net", "online")
        await expect(a.locator(".space-banner.in-caucus")).to_be_visible()
        await expect(row).to_have_attribute("data-connection", "online")
        await media_flows(med, pid)
        await media_flows(a, med_pid)
        await expect(a.locator("#room-notice")).to_be_hidden()
        await audit.shot(a, "party-back")

        kinds = [e["kind"] for e in await events_of(srv, session_id) if e["actor_id"] == pid]
        assert "participant.reconnected" in kinds and "participant.left" not in kinds, kinds
        audit.save()
        assert not audit.serious(), audit.serious()
        assert not audit.csp, audit.csp


async def test_devices_switch_mid_session_and_the_lobby_hears_the_mediator(
        client_dist: Path, artifacts: Path, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    # Three fake cameras, so that there is another camera to switch to (Chromium's second
    # fake camera is a Y16 depth camera, which sends no video: the test uses the first and
    # the third).
    flags = [f for f in FLAGS if f != "--use-fake-device-for-media-stream"]
    flags.append("--use-fake-device-for-media-stream=device-count=3")
    async with async_playwright() as pw, running_server(db, tmp_path, media=True) as srv:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            await make_user(srv, "mediator", role="mediator")
            await make_user(srv, "clerk", role="clerk")
            med = await new_page(browser, srv.url)
            session_id = await open_session(med)
            url = await invite_link(med, "A", "张三")
            a = await new_page(browser, srv.url)
            # The device check lists both cameras; choosing the other one there shows it.
            await a.goto(url)
            await expect(a.locator(".dev-status.ok")).to_be_visible()
            await expect(a.locator("#check-videoinput option")).to_have_count(3)
            await expect(a.locator("#check-audioinput option")).not_to_have_count(0)
            cam = dict(await a.locator("#check-videoinput option").evaluate_all(
                "os => os.map(o => [o.textContent, o.value])"))  # ids are hashed per origin
            await a.select_option("#check-videoinput", label="fake_device_2")
            await expect(a.locator("#check-videoinput")).to_have_value(cam["fake_device_2"])
            await audit.check(a, "join-device-picker")
            await audit.shot(a, "join-device-picker")
            await a.fill("#name", "张三")
            await a.check("#consent")
            await a.click("#join-btn")
            await expect(a.locator("#waiting-title")).to_be_visible()

            # -- the waiting room hears the mediator, and only it ---------------------------
            await expect(med.locator(".lobby-row")).to_have_count(1)
            await med.click("#lobby-note-box summary")
            await med.fill("#lobby-note", "调解员将于5分钟后开始")
            await med.click("#lobby-note-send")
            await expect(a.locator("#lobby-notes li", has_text="调解员将于5分钟后开始")).to_be_visible()
            await audit.check(a, "waiting-with-message")
            await audit.shot(a, "waiting-with-message")
            pid = await admit(med, a, "张三")
            await media_flows(med, pid)

            # -- switching the camera and the microphone in the room ------------------------
            await a.click("#ctl-devices")
            await expect(a.locator("#device-panel")).to_be_visible()
            await audit.check(a, "room-device-panel")
            await audit.shot(a, "room-device-panel")
            pc_id = "() => { window.__pc ??= window.tiaojieMedia.pc; return window.__pc === window.tiaojieMedia.pc; }"
            assert await a.evaluate(pc_id)
            await sending(a, cam["fake_device_2"])  # the camera chosen before joining
            for kind in ("videoinput", "audioinput"):
                sel = a.locator(f"#room-{kind}")
                ids = await sel.locator("option").evaluate_all("os => os.map(o => o.value)")
                now = await sel.input_value()
                other = next((i for i in ids if i and i != now and i != cam["fake_device_1"]), None)
                if other is None:
                    continue  # one device of this kind only: nothing to switch to
                await sel.select_option(other)
                await expect(sel).to_have_value(other)
                await sending(a, other)
                await media_flows(med, pid)
            # The same peer connection (replaceTrack, no renegotiation) and the same seat.
            assert await a.evaluate(pc_id)
            await expect(med.locator(f'.person[data-pid="{pid}"]')).to_have_attribute("data-connection", "online")
            kinds = [e["kind"] for e in await events_of(srv, session_id) if e["actor_id"] == pid]
            assert kinds.count("participant.joined") == 1 and "participant.reconnected" not in kinds, kinds

            # -- the clerk reads the event log in the page's language -----------------------
            clerk = await new_page(browser, srv.url)
            await login(clerk, "clerk")
            await clerk.locator("#clerk-cases button").first.click()
            await clerk.get_by_role("button", name="事件记录").first.click()
            await expect(clerk.locator('li[data-kind="lobby.admitted"] strong')).to_have_text("让其进入调解室")
            await expect(clerk.locator('li[data-kind="lobby.message"]')).to_contain_text("调解员将于5分钟后开始")
            await expect(clerk.locator(".transcript li strong", has_text="lobby.admitted")).to_have_count(0)
            await audit.check(clerk, "clerk-event-log")
            await audit.shot(clerk, "clerk-event-log")
            audit.save()
            assert not audit.serious(), audit.serious()
            assert not audit.csp, audit.csp
        finally:
            await browser.close()
