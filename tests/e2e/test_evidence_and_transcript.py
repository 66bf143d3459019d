"""Evidence and transcript review in a real browser: a party admitted to the room uploads a
picture (and is told clearly when a file is of the wrong kind), the mediator finds it in
the session's uploads and shows it to the joint session, the party receives it and
downloads it with the seat header; a clerk opens the transcript review of the session,
listens to a line (its recorded audio, cut to the line's span, plays in an <audio>
element), corrects it and sees version 2 and its history. Every page in the room shows
that the session is being recorded. axe-core checks the new views."""

from __future__ import annotations

import asyncio
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_mediation import join_by_link, login
from tests.signaling.harness import Server, make_user, running_server

pytestmark = pytest.mark.browser


def tiny_png() -> bytes:
    """A valid 2×2 RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def archived_utterance(srv: Server, session_id: str, name: str) -> tuple[str, float]:
    """A line of ``name``'s, stored at a span of the audio the SFU archived of them (the
    recognizer is not run here: the line stands for what it would have written)."""
    import uuid

    from sqlalchemy import select

    from media.tap import Speaker
    from signaling.audio_archive import AudioSegment
    from signaling.db.models import Participant
    from transcription.store import store_utterance
    from transcription.utterance import Caption

    async with srv.services.db.session() as db:
        pid = (await db.execute(select(Participant.id).where(
            Participant.session_id == session_id,
            Participant.display_name == name))).scalar_one()
    seg: list[AudioSegment] = []

    async def sealed() -> None:
        async with srv.services.db.session() as db:
            seg[:] = (await db.execute(select(AudioSegment).where(
                AudioSegment.participant_id == pid, AudioSegment.chunks > 0))).scalars()

    t0 = asyncio.get_running_loop().time()
    while not seg:  # the first chunk is sealed after 10 s of audio
        await sealed()
        assert asyncio.get_running_loop().time() - t0 < 60, "no audio archived"
        await asyncio.sleep(0.5)
    s = seg[0]
    c = Caption(utterance_id=str(uuid.uuid4()), session_id=session_id,
                speaker=Speaker(pid, name, "party"), caucus_id=None, start=s.start + 2.0,
                end=s.start + 4.5, text="我同意", final=True, model="base", confidence=0.9,
                language="zh")
    async with srv.services.db.session() as db:
        await store_utterance(db, c)
    return c.utterance_id, c.end - c.start


async def test_evidence_shown_to_the_room_and_a_corrected_transcript(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    png = tiny_png()
    async with running_server(db, tmp_path, media=True) as srv:
        await make_user(srv, "mediator", role="mediator")
        await make_user(srv, "clerk", role="clerk")

        # -- a session with one party admitted ------------------------------------------
        med = await new_page(browser, srv.url)
        await login(med, "mediator")
        await med.fill("#case-number", "(2026)长北调字第8号")
        await med.fill("#case-type", "物业纠纷")
        await med.click("#case-create")
        await med.click("#session-create")
        await expect(med.locator("#board")).to_be_visible()
        session_id = med.url.split("session=")[1].split("&")[0]
        await med.select_option("#inv-role", "party")
        await med.select_option("#inv-side", "A")
        await med.fill("#inv-label", "张三")
        await med.click("#invite-create")
        url = await med.locator('.invite[data-side="A"] .invite-url').input_value()
        a = await new_page(browser, srv.url)
        await join_by_link(a, url, "张三", audit, "partyA")
        await med.locator(".lobby-row", has_text="张三").get_by_role("button", name="让其进入 张三").click()
        await expect(a.locator(".space-banner.in-joint")).to_be_visible()
        # Recording is on by default: everyone in the room is told, in their language.
        for page in (a, med):
            await expect(page.locator("#rec-indicator")).to_have_text("录音中")
        await expect(med.locator("#ctl-rec")).to_contain_text("关闭录音")

        # -- the party uploads: a wrong kind of file is refused in plain words, a PNG is kept -
        await a.click("#evidence-open")
        await a.get_by_label("证据名称").fill("说明")
        await a.get_by_label("文件（PNG").set_input_files(
            {"name": "note.txt", "mimeType": "text/plain", "buffer": b"just text"})
        await a.click("#evidence-upload")
        await expect(a.locator(".evidence-status.form-error")).to_contain_text("只能上传 PNG")
        await a.get_by_label("证据名称").fill("漏水照片")
        await a.get_by_label("文件（PNG").set_input_files(
            {"name": "leak.png", "mimeType": "image/png", "buffer": png})
        await a.click("#evidence-upload")
        await expect(a.locator(".evidence-status")).to_contain_text("调解员将决定")
        await audit.check(a, "evidence-upload-partyA")
        await audit.shot(a, "partyA-evidence-uploaded")

        # -- the mediator finds it and shows it to the joint session -------------------------
        await med.click("#evidence-refresh")
        row = med.locator("#evidence-uploaded .evidence-upload", has_text="漏水照片")
        await expect(row).to_have_count(1)
        await row.get_by_role("button", name="向当前房间出示: 漏水照片").click()
        await expect(row).to_contain_text("已出示")
        await audit.check(med, "evidence-mediator")
        await audit.shot(med, "mediator-evidence")

        # -- the party receives it and downloads it with the seat header ------------------------
        item = a.locator("#evidence-shown .evidence-item", has_text="漏水照片")
        await expect(item).to_be_visible()
        async with a.expect_download() as dl_info:
            await item.get_by_role("button", name="下载 漏水照片").click()
        got = tmp_path / "got.png"
        await (await dl_info.value).save_as(got)
        assert got.read_bytes() == png
        await audit.check(a, "evidence-received-partyA")
        await audit.shot(a, "partyA-evidence-received")

        # -- the clerk corrects an utterance and reads its history -----------------------------
        _, span = await archived_utterance(srv, session_id, "张三")
        clerk = await new_page(browser, srv.url)
        await login(clerk, "clerk")
        await clerk.locator("#clerk-cases button").first.click()
        await clerk.locator(f'[data-review="{session_id}"]').click()
        line = clerk.locator(".review-line").first
        await expect(line).to_contain_text("张三")
        await expect(line.locator(".review-version")).to_have_text("1")
        # Listening: the line's audio loads in the page's <audio> and lasts as long as it.
        await line.get_by_role("button", name="收听: 张三 的发言").click()
        player = line.locator("audio.review-player")
        await expect(player).to_have_count(1)
        await clerk.wait_for_function(
            "el => el.readyState >= 1 && isFinite(el.duration) && el.duration > 0",
            arg=await player.element_handle())
        played = await player.evaluate("el => el.duration")
        assert abs(played - span) < 0.15, (played, span)
        await expect(line.locator(".review-source")).to_have_text("实时字幕")
        await expect(clerk.locator(".transcript-exports a", has_text="SRT")).to_have_attribute(
            "href", f"/api/v1/sessions/{session_id}/transcript/export?format=srt")
        await line.get_by_role("button", name="修改: 张三 的发言").click()
        await clerk.get_by_label("张三 的发言").fill("我同意分担维修费用")
        await line.get_by_role("button", name="保存").click()
        await expect(line.locator(".review-version")).to_have_text("2")
        await expect(line.locator(".review-text")).to_have_text("我同意分担维修费用")
        await expect(line.locator(".review-source")).to_have_text("人工校对")
        await expect(line.locator(".review-live")).to_contain_text("我同意")
        await line.get_by_role("button", name="修改记录: 张三 的发言").click()
        await expect(line.locator(".history-list li")).to_have_count(1)
        await expect(line.locator(".history-list del")).to_have_text("我同意")
        await expect(line.locator(".history-list ins")).to_have_text("我同意分担维修费用")
        await audit.check(clerk, "transcript-review")
        await audit.shot(clerk, "clerk-transcript-review")

        # The mediator reaches the same review from the case page, in English.
        await med.goto("/mediator?lang=en")
        await med.locator(".row-link").first.click()
        await med.locator(f'[data-review="{session_id}"]').click()
        await expect(med.locator(".review-line .review-version").first).to_have_text("2")
        await expect(med.locator("#rv-h")).to_have_text("Transcript review")
        await audit.check(med, "transcript-review-mediator-en")

        for p in (a, med, clerk):
            await audit.csp_of(p, "end")
        audit.save()
        for p in (a, med, clerk):
            await p.context.close()
        assert not audit.csp, audit.csp
        assert not audit.serious(), audit.serious()
