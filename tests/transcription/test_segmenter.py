"""The segmenter on synthetic speech probabilities (no model, no clock)."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from transcription.segmenter import Segmenter, SegmenterOptions, SegmentEvent
from transcription.vad import WINDOW

STEP = WINDOW / 16_000


def feed(seg: Segmenter, pattern: list[tuple[float, int]]) -> list[SegmentEvent]:
    """Feed (probability, windows) runs; window k carries the value k so audio is traceable."""
    probs: list[float] = []
    for p, n in pattern:
        probs += [p] * n
    audio: npt.NDArray[np.float32] = np.repeat(np.arange(len(probs), dtype=np.float32), WINDOW)
    return seg.push(audio, np.array(probs, dtype=np.float32))


def test_a_short_silence_closes_the_utterance_with_look_back_and_tail() -> None:
    opts = SegmenterOptions(lookback=0.3, tail_pad=0.2, min_silence=0.5, partial_every=99)
    events = feed(Segmenter(opts), [(0.0, 20), (0.9, 30), (0.0, 20)])
    assert [e.kind for e in events] == ["final"]
    final = events[0]
    lookback, tail = round(0.3 / STEP), round(0.2 / STEP)
    assert final.audio[0] == 20 - lookback  # the first soft word is not cut
    assert final.audio[-1] == 20 + 30 + tail - 1
    assert abs(final.start - (20 - lookback) * STEP) < 1e-6
    assert abs(final.end - (50 + tail) * STEP) < 1e-6


def test_ongoing_speech_yields_partial_chunks_that_do_not_overlap() -> None:
    opts = SegmenterOptions(partial_every=1.5, max_utterance=60)
    events = feed(Segmenter(opts), [(0.9, 150), (0.0, 30)])
    partials = [e for e in events if e.kind == "partial"]
    assert len(partials) >= 2 and events[-1].kind == "final"
    for a, b in itertools.pairwise(partials):
        assert abs(a.end - b.start) < 1e-6  # each chunk is new audio, decoded once
    assert all(p.utterance_start == events[-1].start for p in partials)
    assert {e.index for e in events} == {0}


def test_a_click_shorter_than_min_speech_is_dropped() -> None:
    events = feed(Segmenter(SegmenterOptions(min_speech=0.25)), [(0.9, 3), (0.0, 40)])
    assert events == []


def test_brief_dips_inside_speech_do_not_split_it() -> None:
    events = feed(Segmenter(), [(0.9, 20), (0.1, 5), (0.9, 20), (0.0, 30)])
    assert [e.kind for e in events] == ["final"]


def test_endless_speech_is_cut_at_max_utterance() -> None:
    opts = SegmenterOptions(max_utterance=3.0, partial_every=99)
    events = feed(Segmenter(opts), [(0.9, 300)])
    finals = [e for e in events if e.kind == "final"]
    assert len(finals) >= 3
    assert [f.index for f in finals] == list(range(len(finals)))


def test_flush_closes_an_open_utterance_at_end_of_stream() -> None:
    seg = Segmenter(t0=10.0)
    assert feed(seg, [(0.9, 20)]) == []
    assert seg.speaking
    (final,) = seg.flush()
    assert final.kind == "final" and final.start >= 10.0
    assert seg.flush() == []


def test_a_too_long_utterance_is_cut_at_its_quietest_point_and_nothing_is_lost() -> None:
    opts = SegmenterOptions(lookback=0.0, min_silence=0.5, partial_every=99,
                            max_utterance=4.0, split_search=2.0)
    limit = round(4.0 / STEP)
    # Continuous speech with one soft dip (a breath between words) 1 s before the limit.
    dip = limit - round(1.0 / STEP)
    events = feed(Segmenter(opts), [(0.0, 1), (0.9, dip - 1), (0.4, 1), (0.9, limit),
                                    (0.0, 30)])
    finals = [e for e in events if e.kind == "final"]
    assert len(finals) == 2
    first, second = finals
    assert first.audio[-1] == dip - 1, "cut at the quietest window, not mid-word"
    assert second.audio[0] == dip, "the rest, from the quiet window on, opens the next one"
    assert abs(second.start - first.end) < 1e-6
