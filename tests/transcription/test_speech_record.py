"""Issue 16 with the real models: the case's context reaches the recognizer (bounded),
the second pass becomes the record without ever overtaking a live final, and finals of
several speakers are decoded in one call."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media.tap import TAP_SAMPLE_RATE, Speaker, TapChunk
from transcription import asr
from transcription import pipeline as pipeline_module
from transcription.asr import token_counter
from transcription.audio import decode_file, float_to_int16
from transcription.context import LIVE_PROMPT_TOKENS, SpeechContext
from transcription.models import TranscriptionConfig, load
from transcription.pipeline import TranscriptionPipeline
from transcription.utterance import Caption
from transcription.workers import FINAL

from .conftest import EN, ZH
from .pipeline_helpers import FRAME, stream, with_silence

pytestmark = pytest.mark.slow

ALICE = Speaker("p-alice", "Alice", "party")
CASE = json.loads((Path(__file__).parent / "data" / "meeting_case.json").read_text("utf-8"))
MEETING = decode_file(ZH / CASE["file"])
CONTEXT = SpeechContext.from_case(names=CASE["names"], dispute_type=CASE["dispute_type"],
                                  summary=CASE["summary"])
CASE_WORDS = ("商场", "业绩", "汇报", "销售", "部门", "经理")


class Events:
    """Every caption and second pass, in the order they reached the listeners."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Caption]] = []

    async def live(self, c: Caption) -> None:
        if c.final:
            self.seen.append(("final", c))

    async def record(self, c: Caption) -> None:
        self.seen.append(("record", c))

    def of(self, kind: str) -> list[Caption]:
        return [c for k, c in self.seen if k == kind]


@pytest.fixture
async def pipelines() -> AsyncIterator[list[TranscriptionPipeline]]:
    made: list[TranscriptionPipeline] = []
    yield made
    for p in made:
        await p.close()


async def test_the_case_context_reaches_the_recognizer_within_its_token_budget(
        base_config: TranscriptionConfig, pipelines: list[TranscriptionPipeline],
        monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []
    real = asr.recognize_batch

    def spy(model, requests, language, **kw):  # type: ignore[no-untyped-def]
        prompts.extend(r.prompt for r in requests)
        return real(model, requests, language, **kw)

    monkeypatch.setattr(pipeline_module, "recognize_batch", spy)
    events = Events()
    p = TranscriptionPipeline(replace(base_config, context_prompt=True), events.live)
    pipelines.append(p)
    p.set_context("s1", CONTEXT)
    await stream(p, with_silence(MEETING), ALICE, session="s1")
    p.end_of_stream("s1", ALICE.participant_id)
    await p.drain()
    _spec, model = load(base_config, "zh")
    count = token_counter(model)
    finals = [x for x in prompts if "王建国" in x]
    assert finals, "the finals were decoded with the case's names in the prompt"
    assert all(count(x) <= LIVE_PROMPT_TOKENS for x in prompts)
    assert events.of("final")


async def test_case_words_come_back_in_the_live_captions(
        base_config: TranscriptionConfig, pipelines: list[TranscriptionPipeline]) -> None:
    texts: dict[str, str] = {}
    for label, context in (("bare", None), ("case", CONTEXT)):
        events = Events()
        p = TranscriptionPipeline(base_config, events.live)
        pipelines.append(p)
        p.set_context("s1", context)
        await stream(p, with_silence(MEETING), ALICE, session="s1")
        p.end_of_stream("s1", ALICE.participant_id)
        await p.drain()
        texts[label] = "".join(c.text for c in events.of("final"))
    hits = {k: sum(t.count(w) for w in CASE_WORDS) for k, t in texts.items()}
    assert hits["case"] > hits["bare"], texts
    assert texts["case"].endswith("。"), "a final caption reads as a sentence"


async def test_the_second_pass_follows_the_live_finals_and_waits_for_silence(
        base_config: TranscriptionConfig, pipelines: list[TranscriptionPipeline]) -> None:
    events = Events()
    p = TranscriptionPipeline(base_config, events.live, on_record=events.record)
    pipelines.append(p)
    p.set_context("s1", CONTEXT)
    first = decode_file(ZH / "BAC009S0764W0121.wav")
    # Two utterances with a short pause, pushed faster than real time without waiting:
    # the second is being spoken while the first's final is decoded.
    audio = np.concatenate([with_silence(first, after=0.9), MEETING,
                            np.zeros(TAP_SAMPLE_RATE, np.float32)])
    samples = float_to_int16(audio)
    for i in range(0, samples.size, FRAME):
        p.push(TapChunk("s1", ALICE, None, samples[i:i + FRAME], i / TAP_SAMPLE_RATE))
    p.end_of_stream("s1", ALICE.participant_id)
    await p.drain(record=True)
    kinds = [(k, c.utterance_id) for k, c in events.seen]
    finals = [uid for k, uid in kinds if k == "final"]
    records = [uid for k, uid in kinds if k == "record"]
    assert len(finals) >= 2 and sorted(records) == sorted(finals)
    last_final = max(i for i, (k, _) in enumerate(kinds) if k == "final")
    first_record = min(i for i, (k, _) in enumerate(kinds) if k == "record")
    assert first_record > last_final, \
        f"no second pass runs while someone is still speaking: {kinds}"
    for c in events.of("record"):
        assert c.source == "record" and c.final and c.text
    assert all(c.source == "live" for c in events.of("final"))


async def test_finals_of_several_speakers_are_decoded_in_one_call(
        tiny_config: TranscriptionConfig, pipelines: list[TranscriptionPipeline]) -> None:
    events = Events()
    p = TranscriptionPipeline(tiny_config, events.live)
    pipelines.append(p)
    await p.drain()
    clips = {Speaker(f"p{i}", f"P{i}", "party"): decode_file(EN / f)
             for i, f in enumerate(("spk1_snt1.wav", "spk2_snt1.wav", "spk1_snt5.wav"))}
    # Hold the only worker so that all three finals are queued before any is decoded.
    release = threading.Event()

    def hold() -> None:
        release.wait()

    p.pool.submit(FINAL, hold)
    tracks = {s: float_to_int16(with_silence(a)) for s, a in clips.items()}
    longest = max(t.size for t in tracks.values())
    for i in range(0, longest, FRAME):
        for s, t in tracks.items():
            if i < t.size:
                p.push(TapChunk("s1", s, None, t[i:i + FRAME], i / TAP_SAMPLE_RATE))
    for s in tracks:
        p.end_of_stream("s1", s.participant_id)
    p.decode_calls.clear()
    import asyncio

    def ingest_done() -> None:
        with p._cond:
            p._cond.wait_for(lambda: p._ingest_busy == 0)

    await asyncio.to_thread(ingest_done)
    release.set()
    await p.drain()
    assert p.decode_calls == [3], "one decode call for the three speakers' finals"
    by = {c.speaker.participant_id: c.text.lower() for c in events.of("final")}
    assert "child" in by["p0"] and "war" in by["p1"] and "sunday" in by["p2"], by
