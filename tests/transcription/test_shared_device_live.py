"""A table microphone shared by two people, through the real SFU: each reads a sentence
to enroll under the name typed for them, and the captions of that seat then name who
spoke. Real meeting speech (the AMI excerpts in ``../shared/data/diarization``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest

from tests.signaling.harness import (
    Client,
    Server,
    connect,
    login,
    make_user,
    running_server,
    settled,
)
from tests.signaling.rtc_bot import FRAME, RATE, RtcBot, ToneTrack

from .conftest import DIAR
from .test_diarization import solo_turns

pytestmark = pytest.mark.slow


class CueTrack(ToneTrack):
    """A microphone that is silent until the test plays a clip on it (real time)."""

    def __init__(self) -> None:
        super().__init__()
        self.queue = np.zeros(0, np.int16)

    def play(self, samples: np.ndarray, gap_s: float = 1.5) -> None:
        self.queue = np.concatenate([self.queue, samples,
                                     np.zeros(int(gap_s * RATE), np.int16)])

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        chunk, self.queue = self.queue[:FRAME], self.queue[FRAME:]
        if len(chunk) < FRAME:
            chunk = np.pad(chunk, (0, FRAME - len(chunk)))
        out = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate, out.pts, out.time_base = RATE, frame.pts, frame.time_base
        return out


async def heard_out(srv: Server, mic: CueTrack, *clients: Client) -> None:
    """A barrier: the clip has been played, the pipeline has captioned and delivered all
    of it, and the captions have reached ``clients``."""
    while mic.queue.size:
        await asyncio.sleep(0.1)  # polling a condition, not a fixed wait
    await srv.services.extras["transcription"].drain()
    await settled(*clients)


def clip_48k(name: str, start: float, end: float) -> np.ndarray:
    """A stretch of a 16 kHz meeting recording as the 48 kHz int16 a microphone sends."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(DIAR / f"{name}.wav")) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    audio = np.concatenate(chunks)
    return audio[int(start * RATE):int(end * RATE)].astype(np.int16)


async def test_people_at_one_table_microphone_enroll_and_are_named_in_captions(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path, media=True,
                              transcription=True, language="en") as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _st, case = await staff.call("POST", "/api/v1/cases", {"number": "sd-1",
                                                               "dispute_type": "debt"})
        _st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                     {"language": "en"})
        sid = sess["id"]
        med = await connect(srv.url, {"token": staff.token, "session_id": sid})
        table = await connect(srv.url, {"invite": (await staff.invite(sid, side="A"))["token"],
                                        "name": "张家", "consent": True})
        other = await connect(srv.url, {"invite": (await staff.invite(sid, side="B"))["token"],
                                        "name": "Bob", "consent": True})
        for p in (table, other):
            assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
            await p.wait_for("admitted")

        # Refusals first: nothing to enroll on a seat nobody marked shared, and a party
        # never enrolls on someone else's seat.
        ack = await table.call("voice_enroll", {"participant_id": table.pid, "name": "王芳"})
        assert ack["error"]["code"] == "not_shared_device"
        assert (await med.call("shared_device", {"participant_id": table.pid, "people": 2}))["ok"]
        await table.wait_for("voices", lambda d: d["people"] == 2)
        ack = await other.call("voice_enroll", {"participant_id": table.pid, "name": "李雷"})
        assert ack["error"]["code"] == "not_room_admin"
        ack = await table.call("voice_enroll", {"participant_id": table.pid, "name": " "})
        assert ack["error"]["code"] == "invalid_payload"

        mic = CueTrack()
        bots = [RtcBot(med, tone=False), RtcBot(table, track=mic), RtcBot(other, tone=False)]
        try:
            for bot in bots:
                await bot.publish()
            names = {"MEE009": "王芳", "MEE012": "李雷"}
            # The party types the first name, the mediator the second (both may).
            # One sentence each (3.3 s and 3.6 s of their own turns in dev00).
            sentences = {"MEE009": (6.2, 9.9), "MEE012": solo_turns("dev00", "MEE012")[0]}
            for (speaker, name), who in zip(names.items(), (table, med)):
                assert (await who.call("voice_enroll", {"participant_id": table.pid,
                                                        "name": name}))["ok"]
                await table.wait_for("voices", lambda d, n=name: d["enrolling"] == n)
                mic.play(clip_48k("dev00", *sentences[speaker]))
                await table.wait_for("voices", lambda d, n=name: n in d["voices"], timeout=90)
                await heard_out(srv, mic, table)
            layout = await med.wait_for("layout", lambda d: any(
                p["participant_id"] == table.pid and p.get("voices") == ["王芳", "李雷"]
                for p in d["participants"]))
            assert layout
            ack = await med.call("voice_enroll", {"participant_id": table.pid, "name": "第三人"})
            assert ack["error"]["code"] == "voices_full"

            # Their later turns (dev01): every final caption of each names its speaker.
            def finals() -> list[dict[str, Any]]:
                return [d for d in other.received("caption") if d["final"]
                        and d["speaker"]["participant_id"] == table.pid]

            turns = sorted((s, e, spk) for spk in names for s, e in solo_turns("dev01", spk))
            named: list[tuple[str, str]] = []
            for start, end, speaker in turns:
                before = len(finals())
                mic.play(clip_48k("dev01", start, end), gap_s=2.0)
                await heard_out(srv, mic, other)
                named += [(names[speaker], d["speaker"]["name"]) for d in finals()[before:]]
            assert len(named) >= 3 and {want for want, _ in named} == {"王芳", "李雷"}
            assert [got for _, got in named] == [want for want, _ in named]
            st, events = await staff.call("GET", f"/api/v1/sessions/{sid}/events")
            assert st == 200
            enrolled = [e["payload"]["name"] for e in events["items"]
                        if e["kind"] == "participant.voice_enrolled"]
            assert enrolled == ["王芳", "李雷"]
        finally:
            for bot in bots:
                await bot.close()
