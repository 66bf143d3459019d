"""One mediation in a real browser: a mediator opens a session, two parties join by link
on a phone and a PC, pass the device check and consent, wait, are admitted, talk in the
chat; the mediator takes side A into a caucus and side B sees nothing of it; a clerk reads
the joint record; the mediator ends the session. Every page is checked by axe-core and
must cause no Content-Security-Policy violation; screenshots of each step are saved."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.signaling.harness import PASSWORD, make_user, running_server
from tests.signaling.harness import login as api_login

pytestmark = pytest.mark.browser


async def login(page: Any, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-btn")


async def join_by_link(page: Any, url: str, name: str, audit: Audit, tag: str) -> None:
    await page.goto(url)
    # The token left the address bar at once: it is not in history, screenshots or referrers.
    await expect(page).to_have_url(url.split("#")[0])
    await expect(page.locator(".dev-status.ok")).to_be_visible()
    await expect(page.locator("#mic-meter")).to_be_attached()
    await audit.check(page, f"join-{tag}")
    await audit.shot(page, f"{tag}-device-check")
    await page.click("#join-btn")  # without a name: told what is missing, nothing sent
    await expect(page.locator("#join-error")).not_to_be_empty()
    await page.fill("#name", name)
    await page.check("#consent")
    await page.click("#join-btn")
    await expect(page.locator("#waiting-title")).to_be_visible()
    await audit.check(page, f"waiting-{tag}")
    await audit.shot(page, f"{tag}-waiting")


async def inbound(page: Any, pid: str) -> dict[str, float]:
    stats = await page.evaluate("async () => window.tiaojieMedia ? await window.tiaojieMedia.inbound() : {}")
    return dict(stats.get(pid, {}))


async def media_flows(page: Any, pid: str, *, audio: bool = True, timeout: float = 30.0) -> None:
    """Video frames are decoded (and audio energy grows) for ``pid``'s tracks on ``page``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    first = prev = await inbound(page, pid)
    gained = {"framesDecoded": 0.0, "audioEnergy": 0.0}
    while loop.time() < end:
        await asyncio.sleep(0.5)
        now = await inbound(page, pid)
        for key in gained:
            # A renegotiation (a re-offer after a move or a reconnect) gives the page a new
            # receiver whose counters start again from zero: count what each sample added.
            before, after = prev.get(key, 0.0), now.get(key, 0.0)
            gained[key] += after - before if after >= before else after
        prev = now
        if gained["framesDecoded"] > 5 and (not audio or gained["audioEnergy"] > 0):
            return
    raise AssertionError(f"no media from {pid}: {first} -> {prev}, gained {gained}")


async def media_silent(page: Any, pid: str, timeout: float = 15.0) -> None:
    """Nothing of ``pid`` reaches ``page`` any more: no new frame nor sound for 1.5 s."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        first = await inbound(page, pid)
        await asyncio.sleep(1.5)
        now = await inbound(page, pid)
        # Equal counters: nothing new (a receiver replaced in between starts again from
        # zero and would differ, so it is sampled again, never taken for silence).
        if (now.get("framesDecoded", 0) == first.get("framesDecoded", 0)
                and now.get("audioEnergy", 0) == first.get("audioEnergy", 0)):
            return
        if loop.time() > end:
            raise AssertionError(f"{pid} still reaches the page: {first} -> {now}")


def outbox_code(data_dir: Path, signer_id: str) -> str:
    """The newest one-time code the embedded notifier wrote for this signer."""
    files = sorted((data_dir / "outbox").glob(f"*-{signer_id}.json"))
    assert files, f"no code sent to {signer_id}"
    return str(json.loads(files[-1].read_text(encoding="utf-8"))["code"])


async def draw_signature(page: Any) -> None:
    # On a phone the pad may sit below the fold: a person scrolls to it before drawing
    # (mouse events outside the viewport never reach it).
    await page.locator(".sigpad").scroll_into_view_if_needed()
    box = await page.locator(".sigpad").bounding_box()
    x, y, w, hgt = box["x"], box["y"], box["width"], box["height"]
    await page.mouse.move(x + w * 0.1, y + hgt * 0.6)
    await page.mouse.down()
    for i in range(1, 20):
        await page.mouse.move(x + w * (0.1 + 0.04 * i), y + hgt * (0.6 - 0.3 * ((i % 4) / 3)))
    await page.mouse.up()


async def chat(page: Any, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")
    await expect(page.locator(".chat-log .msg-text", has_text=text)).to_be_visible()


async def test_a_mediation_from_join_links_to_caucus_and_end(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    speaking, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    t0 = time.monotonic()
    async with running_server(db, tmp_path, media=True, transcription=True) as srv:
        print(f"server up in {time.monotonic() - t0:.1f}s", flush=True)
        await make_user(srv, "mediator", role="mediator")
        await make_user(srv, "clerk", role="clerk")
        await make_user(srv, "boss", role="admin")
        await make_user(srv, "wang", role="expert")
        async with aiohttp.ClientSession() as http:
            admin, wang = await api_login(srv, http, "boss"), await api_login(srv, http, "wang")
            st, prof = await admin.call("POST", "/api/v1/experts", {
                "user_id": wang.user["id"], "domains": ["property"], "languages": ["zh"],
                "region": "上海市长宁区", "organisation": "物业协会",
                "availability": [{"weekday": d, "start": "00:00", "end": "24:00"}
                                 for d in range(7)]})
            assert st == 201, prof

        # -- the mediator logs in, opens a case and a session, and makes two links ------
        med = await new_page(browser, srv.url)
        resp = await med.goto("/login")
        assert resp is not None and "script-src 'self'" in resp.headers["content-security-policy"]
        await audit.check(med, "login")
        await login(med, "mediator")
        await expect(med.locator("#case-number")).to_be_visible()
        await med.fill("#case-number", "(2026)长北调字第7号")
        await med.fill("#case-type", "邻里纠纷")
        await med.fill("#case-summary", "楼上漏水导致楼下天花板受损，双方就维修费用协商。")
        await med.click("#case-create")
        await med.click("#session-create")
        await expect(med.locator("#board")).to_be_visible()
        await expect(med.locator(".space-banner.in-joint")).to_be_visible()
        for side, label in (("A", "张三"), ("B", "李四")):
            await med.select_option("#inv-role", "party")
            await med.select_option("#inv-side", side)
            await med.fill("#inv-label", label)
            await med.click("#invite-create")
            await expect(med.locator(f'.invite[data-side="{side}"]')).to_be_visible()
        urls = {side: await med.locator(f'.invite[data-side="{side}"] .invite-url').input_value()
                for side in ("A", "B")}
        assert all(u.startswith(srv.url + "/join#t=") for u in urls.values()), urls
        await med.locator('.invite[data-side="A"] button', has_text="二维码").click()
        await expect(med.locator('.invite[data-side="A"] .qr img')).to_be_visible()
        await audit.check(med, "mediator-console")
        await audit.shot(med, "mediator-console-links")

        # -- two parties join: A on a phone, B on a PC ------------------------------------
        a = await new_page(speaking, srv.url, phone=True)
        b = await new_page(browser, srv.url)
        await join_by_link(a, urls["A"], "张三", audit, "phone-partyA")
        await join_by_link(b, urls["B"], "李四", audit, "desktop-partyB")

        # -- the mediator admits both from the waiting room -------------------------------
        await expect(med.locator(".lobby-row")).to_have_count(2)
        await audit.shot(med, "mediator-lobby")
        for name in ("张三", "李四"):
            await med.locator(".lobby-row", has_text=name).get_by_role("button", name=f"让其进入 {name}").click()
        await expect(med.locator(".lobby-row")).to_have_count(0)
        for p in (a, b):
            await expect(p.locator(".space-banner.in-joint")).to_be_visible()
            await expect(p.locator(".tile")).to_have_count(3)
        # Everyone sees moving video and hears audio from everyone else (inbound stats).
        pids = {n: await med.locator(f'.person:has-text("{n}")').get_attribute("data-pid")
                for n in ("张三", "李四", "Mediator")}
        for viewer, others in ((a, ("李四", "Mediator")), (b, ("张三", "Mediator")),
                               (med, ("张三", "李四"))):
            for other in others:
                await media_flows(viewer, pids[other])

        # Captions of party A's speech reach B with A's name.
        await expect(b.locator(".caption .cap-who", has_text="张三").first).to_be_visible(timeout=90_000)
        await expect(med.locator(".transcript li", has_text="张三").first).to_be_visible()
        # A stops talking (the mute button sends silence): the recognizer has nothing queued
        # when the server stops.
        await a.click("#ctl-mic")
        await expect(a.locator("#ctl-mic")).to_have_attribute("aria-pressed", "true")

        # -- chat in the joint session --------------------------------------------------------
        await chat(a, "您好，我是张三，楼上住户。")
        for p in (b, med):
            await expect(p.locator(".msg-text", has_text="我是张三")).to_be_visible()
        await chat(med, "请双方依次陈述。")
        await expect(b.locator(".msg-text", has_text="依次陈述")).to_be_visible()
        await a.click("#ctl-hand")
        await expect(med.locator(".person.hand")).to_have_count(1)
        await audit.check(a, "room-phone-partyA")
        await audit.check(b, "room-desktop-partyB")
        await audit.shot(a, "phone-partyA-room")
        await audit.shot(b, "desktop-partyB-room")
        await audit.shot(med, "mediator-room")

        # -- caucus with side A: side B sees and hears nothing of it --------------------------
        await med.click("#caucus-A")
        await expect(a.locator(".space-banner.in-caucus")).to_be_visible()
        await expect(med.locator(".space-banner.in-caucus")).to_be_visible()
        await expect(b.locator(".space-banner.in-joint")).to_be_visible()
        await expect(b.locator(".tile")).to_have_count(1)
        await expect(a.locator(".tile")).to_have_count(2)
        await media_silent(b, pids["张三"])
        await media_silent(b, pids["Mediator"])
        await media_flows(med, pids["张三"], audio=False)
        await chat(a, "私下说：我最多愿意承担一半费用。")
        await expect(med.locator(".msg-text", has_text="最多愿意承担一半")).to_be_visible()
        await chat(b, "我在等候，请尽快。")
        # By now B's own later message is shown; A's earlier caucus message never reached B.
        await expect(b.locator(".msg-text", has_text="最多愿意承担一半")).to_have_count(0)
        await expect(a.locator(".msg-text", has_text="我在等候")).to_have_count(0)
        await expect(med.locator(".msg-text", has_text="我在等候")).to_have_count(0)
        await expect(med.locator('.space-caucus .person')).to_have_count(2)
        await audit.check(med, "mediator-caucus")
        await audit.shot(a, "phone-partyA-caucus")
        await audit.shot(b, "desktop-partyB-while-caucus")
        await audit.shot(med, "mediator-caucus")
        await med.click("#return-all")
        for p in (a, b, med):
            await expect(p.locator(".space-banner.in-joint")).to_be_visible()

        # -- an expert is called, accepts in the expert console and joins the consultation --
        ex = await new_page(browser, srv.url)
        await login(ex, "wang")
        await expect(ex.locator("#expert-status .dot-on")).to_be_visible()
        await audit.check(ex, "expert-console")
        await med.select_option("#expert-domain", "property")
        await med.select_option("#expert-scope", "consultation")
        await med.click("#expert-call")
        await expect(ex.locator(".ring")).to_be_visible()
        await audit.check(ex, "expert-ringing")
        await audit.shot(ex, "expert-ringing")
        await ex.locator(".ring button", has_text="接听").click()
        await expect(ex.locator(".space-banner.in-caucus")).to_be_visible()
        await expect(med.locator(".space-banner.in-caucus")).to_be_visible()
        await expect(med.locator(".space-caucus .person-head strong").get_by_text("Wang", exact=True)).to_be_visible()
        await expect(b.locator(".space-banner.in-joint")).to_be_visible()
        await expect(med.locator('#expert-calls .call[data-state="joined"]')).to_be_visible()
        await audit.shot(ex, "expert-in-consultation")
        await audit.shot(med, "mediator-expert-consultation")
        await med.locator("#expert-calls button").click()
        await expect(ex.locator("#end-title")).to_be_visible()
        await expect(med.locator(".space-banner.in-joint")).to_be_visible()

        # -- a clerk joins the session as the recorder -------------------------------------
        clerk = await new_page(browser, srv.url)
        await login(clerk, "clerk")
        await expect(clerk.locator("#clerk-cases li")).to_have_count(1)
        await clerk.locator("#clerk-cases button").first.click()
        await clerk.get_by_role("link", name="进入调解室").click()
        await expect(clerk.locator(".space-banner.in-joint")).to_be_visible()

        # -- the mediator drafts the agreement; everyone reads it live and signs -------------
        # The editor starts from the session's links (张三 for side A, 李四 for side B).
        await med.click("#draft-editor-open")
        await expect(med.locator("#ed-parties-0-name")).to_have_value("张三")
        await med.fill("#ed-parties-0-phone", "13800000001")
        await med.fill("#ed-parties-1-phone", "13800000002")
        await med.fill("#ed-facts", "2026年10月，张三家卫生间漏水，致李四家天花板受损。")
        await med.fill("#ed-responsibility", "张三承担主要责任。")
        await med.select_option("#ed-clauses-0-obligor", "P1")
        await med.select_option("#ed-clauses-0-obligee", "P2")
        await med.fill("#ed-clauses-0-obligation", "支付天花板维修费")
        await med.fill("#ed-clauses-0-amount", "1500")
        await med.fill("#ed-mediator-phone", "13800000003")
        await med.click("#draft-save")
        for p in (a, b, med):
            await expect(p.locator(".agreement-doc", has_text="天花板维修费")).to_be_visible()
        await audit.check(a, "agreement-phone-partyA")
        await audit.shot(a, "phone-partyA-reads-draft")
        # Each party confirms what the draft says about them, then signing opens. The clerk
        # present is printed as the recorder and does not sign (art. 29).
        for p in (a, b):
            await p.click("#confirm-ok")
            await expect(p.locator(".confirm-done")).to_be_visible()
        await med.click("#signing-open")
        signers = ((a, "P1", True), (b, "P2", False), (med, "mediator", True))
        for p, signer_id, draw in signers:
            await expect(p.locator(".sign-form")).to_be_visible()
            await p.locator(".sign-form button", has_text="获取验证码").click()
            await expect(p.locator(".sign-form .hint[role=status]")).not_to_be_empty()
            await p.fill("#sig-code", outbox_code(tmp_path, signer_id))
            if draw:
                await draw_signature(p)
            else:
                await p.fill("#sig-typed", "李四")
            if p is a:
                await audit.check(a, "signing-phone-partyA")
                await audit.shot(a, "phone-partyA-signing")
            await p.click("#sign-submit")
            try:
                await expect(p.locator(".sign-form")).to_have_count(0)
            except AssertionError:
                await audit.shot(p, "signing-failed")
                raise AssertionError(await p.locator(".sign-form .form-error").inner_text())
        await expect(med.locator(".signers li", has_text="已签名")).to_have_count(3)
        await audit.shot(med, "mediator-signatures")
        # Sealing follows the last signature by itself; each party gets their copy.
        await expect(a.locator("#my-copy")).to_be_visible(timeout=120_000)

        # -- English and large text for an elderly party -------------------------------------
        await a.get_by_role("button", name="大字模式").click()
        await a.get_by_role("button", name="Switch language to English").click()
        await expect(a.locator("#ctl-leave")).to_contain_text("Leave")
        await audit.check(a, "room-phone-partyA-en-big")
        await audit.shot(a, "phone-partyA-english-large-text")

        # -- the clerk finds the case, reads the joint record, downloads and verifies the PDF -
        await clerk.goto("/clerk")
        await clerk.locator("#clerk-cases button").first.click()
        await clerk.get_by_role("button", name="事件记录").first.click()
        await expect(clerk.locator(".transcript li", has_text="我是张三")).to_be_visible()
        # The clerk reads the joint record: nothing said in the caucus.
        await expect(clerk.locator(".transcript li", has_text="最多愿意承担一半")).to_have_count(0)
        async with clerk.expect_download() as dl_info:
            await clerk.locator("#documents a", has_text="PDF").first.click()
        download = await dl_info.value
        pdf = tmp_path / "agreement.pdf"
        await download.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        await clerk.set_input_files("#verify-file", str(pdf))
        await clerk.click("#verify-btn")
        await expect(clerk.locator("#verify-result .verdict.ok")).to_be_visible(timeout=60_000)
        await audit.check(clerk, "clerk")
        await audit.shot(clerk, "clerk-record-download-verify")

        # -- the mediator ends the session -------------------------------------------------------
        await med.click("#end-session")
        for p in (a, b):
            await expect(p.locator("#end-title")).to_be_visible()
        await audit.shot(b, "desktop-partyB-ended")
        for name, p in (("partyA", a), ("partyB", b), ("mediator", med), ("clerk", clerk),
                        ("expert", ex)):
            await audit.csp_of(p, f"end-{name}")
        audit.save()
        # Close the browsers' connections before the server stops, or its shutdown waits
        # for their websockets' ping timeout.
        for p in (a, b, med, clerk, ex):
            await p.context.close()
        assert not audit.csp, audit.csp
        assert not audit.serious(), audit.serious()
        t1 = time.monotonic()
    print(f"server down in {time.monotonic() - t1:.1f}s", flush=True)
