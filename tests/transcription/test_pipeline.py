"""The live pipeline with the real models: partial then final captions, per speaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import numpy as np
import pytest

from media.tap import Speaker, TapChunk
from transcription.audio import decode_file
from transcription.errors import LanguageNotSupported
from transcription.metrics import cer, wer
from transcription.models import TranscriptionConfig
from transcription.pipeline import TranscriptionPipeline
from transcription.queue import FinishedSegment
from transcription.utterance import Caption

from .conftest import EN, ZH, references
from .pipeline_helpers import stream, with_silence

ALICE = Speaker("p-alice", "Alice", "party")
BOB = Speaker("p-bob", "Bob", "party")
JFK_REF = references(EN)["jfk.flac"]

pytestmark = pytest.mark.slow


class Collector:
    """An ``on_caption`` callback that keeps what it receives."""

    def __init__(self) -> None:
        self.captions: list[Caption] = []

    async def __call__(self, caption: Caption) -> None:
        self.captions.append(caption)

    def finals(self, speaker: Speaker | None = None) -> list[Caption]:
        return [c for c in self.captions if c.final
                and (speaker is None or c.speaker.participant_id == speaker.participant_id)]


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., TranscriptionPipeline]]:
    made: list[TranscriptionPipeline] = []

    def factory(config: TranscriptionConfig, on_caption: Callable[..., object],
                **kw: object) -> TranscriptionPipeline:
        p = TranscriptionPipeline(config, on_caption, **kw)  # type: ignore[arg-type]
        made.append(p)
        return p

    yield factory
    for p in made:
        await p.close()


async def test_words_spoken_in_a_caucus_stay_in_it_when_the_caucus_ends_mid_sentence(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]
) -> None:
    """The race found by attack: the mediator ends the caucus while Alice still talks.
    Her caucus words (partials and the final, decoded after the end) keep the caucus
    and the audience they were spoken to; only what she says afterwards is joint."""
    out = Collector()
    pipeline = make(tiny_config, out)
    caucus_audience = frozenset({"p-mediator"})
    joint_audience = frozenset({"p-mediator", "p-bob"})
    half = int(1.5 * 16_000)  # mid-word: "and so my fellow Amer|icans"
    boundary = await stream(pipeline, jfk[:half], ALICE, caucus="c1",
                            heard_by=caucus_audience)  # no pause: the sentence is open
    await stream(pipeline, with_silence(jfk[half:], before=0.0), ALICE, start=boundary,
                 heard_by=joint_audience)
    pipeline.end_of_stream("s1", ALICE.participant_id)
    await pipeline.drain()
    before = [c for c in out.captions if c.start < boundary]
    after = [c for c in out.captions if c.start >= boundary]
    assert any(c.final for c in before) and any(c.final for c in after), out.captions
    for c in before:
        assert c.caucus_id == "c1" and c.heard_by == caucus_audience, c
    for c in after:
        assert c.caucus_id is None and c.heard_by == joint_audience, c


async def test_a_caption_is_heard_by_only_who_heard_all_of_it(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]
) -> None:
    """Someone who joined (or left) while an utterance was spoken heard only part of it:
    its caption is not theirs."""
    out = Collector()
    pipeline = make(tiny_config, out)
    speech = with_silence(jfk[: 4 * 16_000], after=0.0)
    t = await stream(pipeline, speech[: speech.size // 2], ALICE,
                     heard_by=frozenset({"p-mediator", "p-bob"}))
    await stream(pipeline, with_silence(speech[speech.size // 2:], before=0.0), ALICE, start=t,
                 heard_by=frozenset({"p-mediator", "p-carol"}))
    pipeline.end_of_stream("s1", ALICE.participant_id)
    await pipeline.drain()
    finals = out.finals()
    assert finals and all(c.heard_by == {"p-mediator"} for c in finals), finals


async def test_streamed_speech_gives_partial_then_final_captions_with_speaker_and_caucus(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]
) -> None:
    out = Collector()
    pipeline = make(tiny_config, out)
    await stream(pipeline, with_silence(jfk), ALICE, caucus="caucus-a")
    pipeline.end_of_stream("s1", ALICE.participant_id)
    await pipeline.drain()
    finals = out.finals()
    assert finals, out.captions
    assert all(c.speaker == ALICE and c.caucus_id == "caucus-a" and c.session_id == "s1"
               for c in out.captions)
    partials = [c for c in out.captions if not c.final]
    assert partials, "ongoing speech must produce partial captions"
    final_ids = [c.utterance_id for c in finals]
    assert len(set(final_ids)) == len(final_ids)
    for p in partials:  # every partial belongs to an utterance finalised later
        assert p.utterance_id in final_ids
        first_final = next(i for i, c in enumerate(out.captions)
                           if c.final and c.utterance_id == p.utterance_id)
        assert out.captions.index(p) < first_final
    assert wer([JFK_REF], [" ".join(c.text for c in finals)]) < 0.15
    assert all(c.model == "tiny.en" and c.language == "en" for c in finals)
    assert [c.start for c in finals] == sorted(c.start for c in finals)


async def test_mandarin_is_captioned_in_simplified_characters(
        base_config: TranscriptionConfig, make: Callable[..., TranscriptionPipeline]) -> None:
    out = Collector()
    pipeline = make(base_config, out)
    name = "BAC009S0764W0121.wav"
    await stream(pipeline, with_silence(decode_file(ZH / name)), ALICE)
    pipeline.end_of_stream("s1", ALICE.participant_id)
    await pipeline.drain()
    text = "".join(c.text for c in out.finals())
    assert cer([references(ZH)[name]], [text]) < 0.4
    assert all(c.language == "zh" and c.model == "base" for c in out.finals())


async def test_each_track_is_attributed_to_its_own_participant(
        tiny_config: TranscriptionConfig, make: Callable[..., TranscriptionPipeline]) -> None:
    out = Collector()
    pipeline = make(tiny_config, out)
    a = with_silence(decode_file(EN / "spk1_snt1.wav"))
    b = with_silence(decode_file(EN / "spk2_snt2.wav"))
    await asyncio.gather(stream(pipeline, a, ALICE), stream(pipeline, b, BOB))
    refs = references(EN)
    assert wer([refs["spk1_snt1.wav"]], [" ".join(c.text for c in out.finals(ALICE))]) < 0.3
    assert wer([refs["spk2_snt2.wav"]], [" ".join(c.text for c in out.finals(BOB))]) < 0.3


async def test_moving_into_a_caucus_closes_the_utterance_so_none_spans_both(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]) -> None:
    out = Collector()
    pipeline = make(tiny_config, out)
    half = len(jfk) // 2
    t = await stream(pipeline, with_silence(jfk[:half], after=0), ALICE, caucus=None)
    await stream(pipeline, with_silence(jfk[half:], before=0), ALICE, caucus="caucus-a", start=t)
    pipeline.end_of_stream("s1", ALICE.participant_id)
    await pipeline.drain()
    joint = [c for c in out.captions if c.caucus_id is None]
    private = [c for c in out.captions if c.caucus_id == "caucus-a"]
    assert joint and private
    assert max(c.end for c in joint) <= t + 1e-6 <= min(c.start for c in private) + 0.35


async def test_a_failing_listener_does_not_stop_captions(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]) -> None:
    seen: list[Caption] = []

    async def flaky(caption: Caption) -> None:
        seen.append(caption)
        raise RuntimeError("listener bug")

    pipeline = make(tiny_config, flaky)
    await stream(pipeline, with_silence(jfk), ALICE)
    assert sum(c.final for c in seen) >= 2


async def test_malformed_audio_from_one_participant_is_dropped(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]) -> None:
    out = Collector()
    pipeline = make(tiny_config, out)
    bad = np.zeros((2, 2, 2), dtype=np.int16)
    pipeline.push(TapChunk("s1", BOB, None, bad, 0.0))
    await stream(pipeline, with_silence(jfk), ALICE)
    assert out.finals(ALICE)


async def test_chinese_on_an_english_only_model_is_refused(
        tiny_config: TranscriptionConfig, make: Callable[..., TranscriptionPipeline]) -> None:
    with pytest.raises(LanguageNotSupported):
        make(replace(tiny_config, language="zh"), Collector())
    pipeline = make(tiny_config, Collector())
    with pytest.raises(LanguageNotSupported):
        pipeline.set_language("s1", "zh")
    assert pipeline.language("s1") == "en"


async def test_with_a_segment_sink_finals_are_handed_off_not_decoded_here(
        tiny_config: TranscriptionConfig, jfk: np.ndarray,
        make: Callable[..., TranscriptionPipeline]) -> None:
    out = Collector()
    handed: list[FinishedSegment] = []

    async def sink(segment: FinishedSegment) -> None:
        handed.append(segment)

    pipeline = make(tiny_config, out, segment_sink=sink)
    from transcription.context import SpeechContext

    case = SpeechContext.from_case(names=["Alice Smith"], summary="A lease dispute.")
    pipeline.set_context("s1", case)
    await stream(pipeline, with_silence(jfk), ALICE, caucus="c1")
    assert handed and not out.finals()
    assert all(s.speaker == ALICE and s.caucus_id == "c1" and s.language == "en"
               for s in handed)
    assert all(s.context == case for s in handed)  # the worker writes case words too
    assert sum(s.audio.size for s in handed) > 0.6 * jfk.size
