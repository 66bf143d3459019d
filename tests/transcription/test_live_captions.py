"""Speech through the real SFU into the live pipeline: captions with the speaker's name,
and caucus captions reaching only the caucus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import SHARED_DATA
from tests.signaling.harness import Client, connect, login, make_user, running_server, settled
from tests.signaling.rtc_bot import RtcBot, SpeechTrack, load_speech

pytestmark = pytest.mark.slow


async def final_caption(c: Client, pred: Callable[[dict[str, Any]], bool] | None = None,
                        timeout: float = 60.0) -> dict[str, Any]:
    return dict(await c.wait_for(
        "caption", lambda d: d["final"] and (pred is None or pred(d)), timeout=timeout))


async def test_a_partys_speech_becomes_captions_with_its_name_and_caucus_words_stay_inside(
        tmp_path: Path) -> None:
    jfk = str(SHARED_DATA / "speech" / "en" / "jfk.flac")
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path, media=True,
                              transcription=True, language="en") as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        st, case = await staff.call("POST", "/api/v1/cases", {"number": "en-1",
                                                              "dispute_type": "debt"})
        st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                    {"language": "en"})
        sid = sess["id"]
        med = await connect(srv.url, {"token": staff.token, "session_id": sid})
        a = await connect(srv.url, {"invite": (await staff.invite(sid, side="A"))["token"],
                                    "name": "Alice", "consent": True})
        b = await connect(srv.url, {"invite": (await staff.invite(sid, side="B"))["token"],
                                    "name": "Bob", "consent": True})
        for p in (a, b):
            assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
            await p.wait_for("admitted")
        # The caucus opens before Alice speaks her second time.
        speech = load_speech(jfk, repeat=2, gap_s=6.0)
        bots = [RtcBot(med, tone=False), RtcBot(a, track=SpeechTrack(speech)),
                RtcBot(b, tone=False)]
        try:
            for bot in bots:
                await bot.publish()
            first = await final_caption(b, lambda d: d["speaker"]["participant_id"] == a.pid)
            assert first["speaker"]["name"] == "Alice" and first["caucus"] is None
            cid = (await med.call("caucus_create", {"name": "A", "members": [a.pid]}))[
                "caucus_id"]
            assert (await med.call("caucus_move", {"participant_id": med.pid,
                                                   "caucus_id": cid}))["ok"]
            inside = await final_caption(med, lambda d: d["caucus"] == cid, timeout=90)
            assert inside["speaker"]["name"] == "Alice"
            # The speech's last words, said in the caucus: no caucus caption comes after.
            await final_caption(med, lambda d: d["caucus"] == cid
                                and "country" in d["text"].lower(), timeout=90)
            # One emit sends a caption to its whole audience, and the mediator has the last
            # one: B's round trip after it means a misrouted copy would be here already.
            await settled(b)
            assert not [d for d in b.received("caption") if d["caucus"] is not None]
            leaked = [d for d in b.received("caption")
                      if d["utterance_id"] == inside["utterance_id"]]
            assert not leaked
            st, transcript = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
            assert any(u["caucus_id"] == cid for u in transcript["items"])
        finally:
            for bot in bots:
                await bot.close()


async def test_a_node_that_takes_a_session_applies_its_speech_settings_from_the_shared_state(
        tmp_path: Path) -> None:
    """What a media node does when a session lands on it (or another node changed a
    setting): its pipeline, knowing nothing of the session, learns the session's
    language, case vocabulary, shared seat and pending enrollment from the database and
    the room; a seat marked back to one person is forgotten the same way."""
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                              transcription=True, language="zh") as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _st, case = await staff.call("POST", "/api/v1/cases", {
            "number": "sync-1", "dispute_type": "debt", "summary": "欠款纠纷"})
        _st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                     {"language": "en"})
        sid = sess["id"]
        med = await connect(srv.url, {"token": staff.token, "session_id": sid})
        table = await connect(srv.url, {"invite": (await staff.invite(sid, side="A"))["token"],
                                        "name": "张家", "consent": True})
        assert (await med.call("admit", {"participant_id": table.pid}))["ok"]
        assert (await med.call("shared_device", {"participant_id": table.pid, "people": 2}))["ok"]
        assert (await med.call("voice_enroll", {"participant_id": table.pid,
                                                "name": "王芳"}))["ok"]
        pipeline = srv.services.extras["transcription"]
        # A fresh pipeline for this session (as on a media node it just landed on).
        pipeline._languages.pop(sid, None)
        pipeline.set_context(sid, None)
        pipeline.mark_shared_device(sid, table.pid, 1)
        assert pipeline.language(sid) == "zh" and pipeline.context(sid) is None
        assert (sid, table.pid) not in pipeline._shared

        assert await srv.services.hub.sync_speech(sid) is True
        assert pipeline.language(sid) == "en"
        assert pipeline.context(sid) is not None and not pipeline.context(sid).empty
        assert pipeline._shared[(sid, table.pid)].speakers == 2
        assert pipeline._enrolling[(sid, table.pid)] == "王芳"

        # Back to one person: the next sync forgets the split and the enrollment.
        assert (await med.call("shared_device", {"participant_id": table.pid, "people": 1}))["ok"]
        pipeline.mark_shared_device(sid, table.pid, 2)  # a stale copy on that node
        pipeline.enroll_next(sid, table.pid, "王芳")
        assert await srv.services.hub.sync_speech(sid) is True
        assert (sid, table.pid) not in pipeline._shared
        assert (sid, table.pid) not in pipeline._enrolling
        await settled(med, table)
