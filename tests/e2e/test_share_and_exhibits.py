"""Screen sharing, exhibits, expert calls and audio only, in a real browser.

A party the mediator allowed to share shares their screen inside a caucus: the mediator
there sees it large with the party's name, the other side's page gets no screen track at
all, and stopping from the browser's own bar ends it everywhere. The mediator shows a PDF
exhibit to the room: every page opens it in the in-page viewer (pdf.js, bundled) and
follows the presenter's page, and a party who joins later (or reloads) opens it at that
page; a party cannot turn it. The mediator calls a named expert
for the joint session in English. A party on a weak line switches to audio only and their
video stops both ways. axe-core runs on each new view, normal and large text, phone and
desktop; screenshots are kept."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_mediation import media_flows
from tests.e2e.test_room_network import admit, invite_link, open_session
from tests.signaling.harness import login as api_login
from tests.signaling.harness import make_user, running_server

pytestmark = pytest.mark.browser

SOURCE_FRAMES_JS = """async ([pid, source]) => {
  const m = window.tiaojieMedia; let f = 0;
  if (!m || !m.pc) return 0;
  (await m.pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    const t = m.tracks[s.mid];
    if (t && t.participant_id === pid && t.source === source) f += s.framesDecoded || 0;
  });
  return f;
}"""
SCREEN_FRAMES_JS = """async (pid) => {
  const m = window.tiaojieMedia; let f = 0, tracks = 0;
  if (!m || !m.pc) return {frames: 0, tracks: 0};
  (await m.pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    const t = m.tracks[s.mid];
    if (t && t.participant_id === pid && t.source === 'screen') f += s.framesDecoded || 0;
  });
  for (const t of Object.values(m.tracks)) if (t.participant_id === pid && t.source === 'screen') tracks++;
  return {frames: f, tracks, remote: !!(m.remote.get(pid) || {}).screen};
}"""


def three_page_pdf() -> bytes:
    """A small PDF of three pages, each with a different drawing and the title 合同 in
    STSong-Light, a font the file does not embed: pdf.js draws it only with the Adobe-GB1
    character map (UniGB-UCS2-H), which the viewer must fetch from our own server."""
    font = 9  # the Type0 font's object number, after the catalog, pages and 3 x (page, content)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 5 0 R 7 0 R] /Count 3 >>",
    ]
    for n in range(3):
        # 合同 in UCS-2: U+5408 U+540C.
        content = (f"0 0.3 0.6 rg 50 50 {100 + 120 * n} 200 re f "
                   f"BT /F1 24 Tf 60 760 Td <5408540C> Tj ET").encode()
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {5 + 2 * n - 1} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objs += [
        f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        f"/DescendantFonts [{font + 1} 0 R] >>".encode(),
        f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
        f"<< /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor {font + 2} 0 R >>"
        .encode(),
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def camera_flows(page: Any, pid: str, timeout: float = 30.0) -> None:
    """New camera frames of ``pid`` are decoded on ``page`` (a screen beside it, live or
    stopped, does not count)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    first = last = await page.evaluate(SOURCE_FRAMES_JS, [pid, "video"])
    gained = 0
    while loop.time() < end:
        await asyncio.sleep(0.5)
        now = await page.evaluate(SOURCE_FRAMES_JS, [pid, "video"])
        gained += now - last if now >= last else now  # a new receiver counts from zero
        last = now
        if gained > 5:
            return
    raise AssertionError(f"no camera frames from {pid}: {first} -> {last}")


async def screen_of(page: Any, pid: str) -> dict[str, Any]:
    return dict(await page.evaluate(SCREEN_FRAMES_JS, pid))


async def screen_decoded(page: Any, pid: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = await screen_of(page, pid)
        if got["frames"] > 2:
            return
        if loop.time() > end:
            detail = await page.evaluate("""async () => { const out = []; const m = window.tiaojieMedia;
              (await m.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') out.push([s.mid, s.kind,
               (m.tracks[s.mid] || {}).source, s.bytesReceived, s.packetsReceived, s.framesDecoded, s.keyFramesDecoded, s.pliCount, s.decoderImplementation]); });
              return out; }""")
            raise AssertionError(f"no screen frames from {pid}: {got} {detail}")
        await asyncio.sleep(0.5)


async def party_in(
    browser: Any, srv_url: str, med: Any, url: str, name: str, *, phone: bool
) -> tuple[Any, str]:
    page = await new_page(browser, srv_url, phone=phone)
    await page.goto(url)
    await expect(page.locator(".dev-status.ok")).to_be_visible()
    await page.fill("#name", name)
    await page.check("#consent")
    await page.click("#join-btn")
    await expect(page.locator("#waiting-title")).to_be_visible()
    return page, await admit(med, page, name)


async def test_a_screen_shared_in_a_caucus_is_seen_only_there(
    browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path
) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    async with running_server(db, tmp_path, media=True) as srv:
        await make_user(srv, "mediator", role="mediator")
        med = await new_page(browser, srv.url)
        await open_session(med)
        url_a = await invite_link(med, "A", "张三")
        url_b = await invite_link(med, "B", "李四")
        a, pid_a = await party_in(browser, srv.url, med, url_a, "张三", phone=True)
        b, pid_b = await party_in(browser, srv.url, med, url_b, "李四", phone=False)
        # Not allowed yet: no share button for a party.
        await expect(a.locator("#ctl-audio-only")).to_be_visible()
        await expect(a.locator("#ctl-share")).to_have_count(0)
        # The mediator allows A from the participant list.
        grant = med.locator(f'.person[data-pid="{pid_a}"] [data-act="share-grant"]')
        await grant.click()
        await expect(grant).to_have_attribute("aria-pressed", "true")
        await expect(a.locator("#ctl-share")).to_be_visible()
        await expect(b.locator("#ctl-share")).to_have_count(0)
        # A caucus of side A and the mediator; A shares there.
        await med.click("#caucus-A")
        await expect(a.locator(".space-banner.in-caucus")).to_be_visible()
        await a.click("#ctl-share")
        await expect(a.locator("#ctl-share")).to_have_attribute("aria-pressed", "true")
        stage = med.locator("#screen-stage")
        await expect(stage).to_be_visible()
        await expect(stage).to_have_attribute("data-sharer", pid_a)
        await expect(stage.locator("h2")).to_contain_text("张三 正在共享屏幕")
        await screen_decoded(med, pid_a)
        await expect(med.locator(f'.person[data-pid="{pid_a}"] .flag-sharing')).to_be_visible()
        await audit.check(med, "mediator-sees-caucus-share")
        await audit.shot(med, "mediator-sees-caucus-share")
        await audit.check(a, "party-sharing-phone")
        await audit.shot(a, "party-sharing-phone")
        await a.get_by_role("button", name="大字模式").click()
        await audit.check(a, "party-sharing-phone-big")
        await audit.shot(a, "party-sharing-phone-big")
        await med.get_by_role("button", name="大字模式").click()
        await audit.check(med, "mediator-sees-share-big")
        await audit.shot(med, "mediator-sees-share-big")
        await med.get_by_role("button", name="大字模式").click()
        # The other side's page gets no screen track and shows no stage.
        got = await screen_of(b, pid_a)
        assert got == {"frames": 0, "tracks": 0, "remote": False}, got
        await expect(b.locator("#screen-stage")).to_be_hidden()
        await audit.shot(b, "other-side-sees-no-share")

        # -- stopped from the browser's own "stop sharing" bar: the track ends -------------
        await a.evaluate("() => window.tiaojieMedia.screen.dispatchEvent(new Event('ended'))")
        await expect(stage).to_be_hidden()
        await expect(a.locator("#ctl-share")).to_have_attribute("aria-pressed", "false")
        await expect(med.locator(f'.person[data-pid="{pid_a}"] .flag-sharing')).to_have_count(0)
        await camera_flows(med, pid_a)  # back on a connection without the screen
        # Withdrawn: the button goes.
        await grant.click()
        await expect(a.locator("#ctl-share")).to_have_count(0)
        got = await screen_of(b, pid_a)
        assert got["tracks"] == 0, got
        audit.save()
        assert not audit.serious(), audit.serious()
        assert not audit.csp, audit.csp


async def test_an_exhibit_pdf_is_followed_page_by_page_and_audio_only_drops_video(
    browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path
) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    pdf = tmp_path / "合同.pdf"
    pdf.write_bytes(three_page_pdf())
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    async with running_server(db, tmp_path, media=True) as srv:
        await make_user(srv, "mediator", role="mediator")
        await make_user(srv, "admin", role="admin")
        await make_user(srv, "expert", role="expert")
        async with aiohttp.ClientSession() as http:
            adm = await api_login(srv, http, "admin")
            exp = await api_login(srv, http, "expert")
            st, prof = await adm.call(
                "POST",
                "/api/v1/experts",
                {
                    "user_id": exp.user["id"],
                    "domains": ["legal", "property"],
                    "languages": ["zh", "en"],
                    "phone": "13800138000",
                },
            )
            assert st == 201, prof
        med = await new_page(browser, srv.url)
        session_id = await open_session(med)
        url_a = await invite_link(med, "A", "张三")
        a, pid_a = await party_in(browser, srv.url, med, url_a, "张三", phone=True)
        med_pid = await med.locator('.person:has-text("（我）")').get_attribute("data-pid")
        assert med_pid

        # -- the mediator uploads an exhibit and shows it to the room ------------------------
        await med.click("#evidence-open")
        await med.locator(".evidence-form input[type=text]").fill("合同")
        await med.locator(".evidence-form input[type=file]").set_input_files(str(pdf))
        await med.click("#evidence-upload")
        row = med.locator("#evidence-uploaded .evidence-upload", has_text="合同")
        await expect(row).to_be_visible()  # pushed over the socket, no refresh
        # The title's font is not in the file: the viewer fetches the Chinese character
        # map from this server (no CDN) to draw it.
        async with a.expect_response(
                lambda r: "/assets/pdf/cmaps/UniGB-UCS2-H" in r.url) as cmap:
            await row.get_by_role("button", name="向当前房间出示: 合同").click()
        assert (await cmap.value).status == 200
        viewer_m = med.locator("#exhibit-viewer")
        viewer_a = a.locator("#exhibit-viewer")
        await expect(viewer_m.locator(".exhibit-body")).to_have_attribute("data-rendered", "1")
        await expect(viewer_a.locator(".exhibit-body")).to_have_attribute("data-rendered", "1")
        await expect(viewer_a.locator("#exhibit-page")).to_contain_text("共 3 页")
        await expect(viewer_a.locator("#exhibit-next")).to_have_count(0)  # the party follows
        await audit.check(a, "exhibit-viewer-phone")
        await audit.shot(a, "exhibit-viewer-phone")
        await audit.check(med, "exhibit-presenter-desktop")
        await audit.shot(med, "exhibit-presenter-desktop")
        for page_no in (2, 3):
            await viewer_m.locator("#exhibit-next").click()
            await expect(viewer_a.locator("#exhibit-page")).to_have_attribute(
                "data-page", str(page_no)
            )
            await expect(viewer_a.locator(".exhibit-body")).to_have_attribute(
                "data-rendered", str(page_no)
            )
        # -- a party admitted now opens the exhibit at the presenter's page, and again
        # after reloading their page (the welcome carries it) --------------------------------
        url_b = await invite_link(med, "B", "李四")
        b, _pid_b = await party_in(browser, srv.url, med, url_b, "李四", phone=False)
        for _ in ("admitted", "reloaded"):
            viewer_b = b.locator("#exhibit-viewer")
            await expect(viewer_b.locator("#exhibit-page")).to_have_attribute("data-page", "3")
            await expect(viewer_b.locator(".exhibit-body")).to_have_attribute(
                "data-rendered", "3")
            await expect(viewer_b.locator("#exhibit-next")).to_have_count(0)  # follows
            if _ == "admitted":
                await audit.shot(b, "late-joiner-opens-exhibit")
                await b.reload()
        await b.close()
        await a.get_by_role("button", name="大字模式").click()
        await audit.check(a, "exhibit-viewer-phone-big")
        await audit.shot(a, "exhibit-viewer-phone-big-page3")
        await a.get_by_role("button", name="大字模式").click()
        # A party's socket cannot move the presenter's page.
        ack = await a.evaluate("""() => new Promise((ok) => window.tiaojieMedia['room'].socket
            .timeout(5000).emit('exhibit_page', {evidence_id: document.querySelector('#exhibit-viewer')
            .dataset.evidence, page: 1}, (err, r) => ok(err ? {err: String(err)} : r)))""")
        assert ack["ok"] is False and ack["error"]["code"] == "not_room_admin", ack

        # -- a party's upload reaches the mediator at once -----------------------------------
        await a.click("#evidence-open")
        await a.locator(".evidence-form input[type=text]").fill("漏水照片")
        await a.locator(".evidence-form input[type=file]").set_input_files(str(png))
        await a.click("#evidence-upload")
        await expect(
            med.locator("#evidence-uploaded .evidence-upload", has_text="漏水照片")
        ).to_be_visible()

        # -- calling a named expert for the joint session, in English ------------------------
        await expect(med.locator("#expert-who")).to_be_visible()
        await med.select_option("#expert-who", prof["id"])
        await expect(med.locator("#expert-domain option")).to_have_count(2)
        await med.select_option("#expert-domain", "property")
        await med.select_option("#expert-scope", "caucus")
        await expect(med.locator("#expert-caucus")).to_be_visible()
        await med.select_option("#expert-scope", "joint")
        await expect(med.locator("#expert-caucus")).to_be_hidden()
        await med.select_option("#expert-language", "en")
        await audit.check(med, "expert-call-form")
        await med.click("#expert-call")
        await expect(med.locator("#expert-calls li")).to_have_count(1)
        async with aiohttp.ClientSession() as http:
            staff = await api_login(srv, http, "mediator")
            st, calls = await staff.call("GET", f"/api/v1/sessions/{session_id}/expert-calls")
            assert st == 200, calls
        call = calls["items"][0]
        assert (call["named_expert_id"], call["domain"], call["scope"], call["language"]) == (
            prof["id"],
            "property",
            "joint",
            "en",
        ), call
        await audit.shot(med, "expert-call-named")

        # -- audio only on a weak line: video stops both ways --------------------------------
        await media_flows(med, pid_a)
        await media_flows(a, med_pid)
        # Video flows both ways before the switch: wait until both counters grow (a barrier,
        # not a fixed sleep: on a loaded host the first sample may come before any new frame).
        first = await a.evaluate("() => window.tiaojieMedia.videoBytes()")
        before = first
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not (before["sent"] > first["sent"] and before["received"] > first["received"]):
            assert loop.time() < deadline, ("no video before audio only", first, before)
            await asyncio.sleep(0.5)
            before = await a.evaluate("() => window.tiaojieMedia.videoBytes()")
        await a.click("#ctl-audio-only")
        await expect(a.locator("#ctl-audio-only")).to_have_attribute("aria-pressed", "true")
        await expect(med.locator(f'.person[data-pid="{pid_a}"] .flag-audio-only')).to_be_visible()
        await asyncio.sleep(2)  # let packets already on their way arrive
        start = await a.evaluate("() => window.tiaojieMedia.videoBytes()")
        await asyncio.sleep(4)  # a window to measure in, not a wait for an outcome
        end = await a.evaluate("() => window.tiaojieMedia.videoBytes()")
        assert start["sent"] >= before["sent"] and start["received"] > 0, (before, start)
        assert end["sent"] - start["sent"] < 4000, (start, end)
        assert end["received"] - start["received"] < 4000, (start, end)
        await audit.check(a, "audio-only-phone")
        await audit.shot(a, "audio-only-phone")
        # Video again.
        await a.click("#ctl-audio-only")
        await expect(a.locator("#ctl-audio-only")).to_have_attribute("aria-pressed", "false")
        await media_flows(med, pid_a)
        audit.save()
        assert not audit.serious(), audit.serious()
        assert not audit.csp, audit.csp
