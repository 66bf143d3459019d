"""Utterance segmentation: VAD probabilities in, utterance and partial-chunk events out.

Pure and synchronous (no model, no clock): the pipeline feeds it audio with one speech
probability per 32 ms window, and it decides where utterances start and end.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE

from .vad import WINDOW


@dataclass(frozen=True)
class SegmenterOptions:
    """Thresholds of the segmenter, in seconds unless stated."""

    threshold: float = 0.5
    """Speech probability that opens an utterance."""
    neg_threshold: float = 0.35
    """Probability below which a window counts as silence (hysteresis against flicker)."""
    min_silence: float = 0.5
    """A silence this long closes the utterance."""
    lookback: float = 0.3
    """Audio kept from before the first voiced window, so a soft first word is not cut."""
    tail_pad: float = 0.2
    """Silence kept after the last voiced window."""
    min_speech: float = 0.25
    """Shorter bursts (a cough, a click) are dropped."""
    max_utterance: float = 20.0
    """Longer speech is cut, so captions and the transcript never lag without bound: at
    the quietest window of its last ``split_search`` seconds, not mid-word."""
    split_search: float = 4.0
    """How far back from ``max_utterance`` the quietest point is looked for."""
    partial_every: float = 1.5
    """Emit a chunk for a partial caption after this much new speech."""


@dataclass(frozen=True)
class SegmentEvent:
    """Something the pipeline must transcribe: a partial chunk or a whole utterance."""

    kind: str
    """"partial" (new audio of an ongoing utterance) or "final" (the whole utterance)."""
    index: int
    """Sequence number of the utterance within the stream."""
    start: float
    """Start of ``audio`` on the stream clock, seconds."""
    end: float
    """End of ``audio`` on the stream clock, seconds."""
    audio: npt.NDArray[np.float32] = field(repr=False)
    """The samples to decode, float32 at 16 kHz."""
    utterance_start: float = 0.0
    """Where the utterance began (equals ``start`` for a final)."""


def _windows(seconds: float) -> int:
    return max(1, round(seconds * TAP_SAMPLE_RATE / WINDOW))


class Segmenter:
    """Segments one stream. ``t0`` is the stream-clock time of the first sample fed."""

    def __init__(self, options: SegmenterOptions | None = None, t0: float = 0.0) -> None:
        self.opt = options or SegmenterOptions()
        self._t = t0
        self._index = 0
        self._lookback: deque[npt.NDArray[np.float32]] = deque(maxlen=_windows(self.opt.lookback))
        self._speech: list[npt.NDArray[np.float32]] = []
        self._probs: list[float] = []
        self._start = 0.0
        self._voiced = 0
        self._silent = 0
        self._partial_from = 0
        self._last_voiced_end = 0

    @property
    def speaking(self) -> bool:
        """Whether an utterance is open."""
        return bool(self._speech)

    def push(self, windows: npt.NDArray[np.float32],
             probs: npt.NDArray[np.float32]) -> list[SegmentEvent]:
        """Feed ``len(probs)`` windows of ``WINDOW`` samples; returns the events they cause."""
        events: list[SegmentEvent] = []
        for i, p in enumerate(probs):
            events.extend(self._step(windows[i * WINDOW:(i + 1) * WINDOW], float(p)))
        return events

    def _step(self, win: npt.NDArray[np.float32], p: float) -> list[SegmentEvent]:
        self._t += WINDOW / TAP_SAMPLE_RATE
        if not self._speech:
            if p >= self.opt.threshold:
                self._start = self._t - (len(self._lookback) + 1) * WINDOW / TAP_SAMPLE_RATE
                self._speech = [*self._lookback, win]
                self._probs = [0.0] * len(self._lookback) + [p]
                self._lookback.clear()
                self._voiced, self._silent = 1, 0
                self._partial_from = 0
                self._last_voiced_end = len(self._speech)
            else:
                self._lookback.append(win)
            return []
        self._speech.append(win)
        self._probs.append(p)
        if p >= self.opt.neg_threshold:
            self._silent = 0
            if p >= self.opt.threshold:
                self._voiced += 1
            self._last_voiced_end = len(self._speech)
        else:
            self._silent += 1
        if self._silent >= _windows(self.opt.min_silence):
            return self._close()
        if len(self._speech) >= _windows(self.opt.max_utterance):
            return self._split()
        new = len(self._speech) - self._partial_from
        if self._silent == 0 and new >= _windows(self.opt.partial_every):
            return [self._partial()]
        return []

    def _partial(self) -> SegmentEvent:
        lo, hi = self._partial_from, len(self._speech)
        self._partial_from = hi
        step = WINDOW / TAP_SAMPLE_RATE
        return SegmentEvent("partial", self._index, self._start + lo * step,
                            self._start + hi * step, np.concatenate(self._speech[lo:hi]),
                            self._start)

    def _close(self, keep_all: bool = False) -> list[SegmentEvent]:
        """End the utterance, keeping ``tail_pad`` of its trailing silence."""
        keep = len(self._speech) if keep_all else \
            min(len(self._speech), self._last_voiced_end + _windows(self.opt.tail_pad))
        speech, dropped = self._speech[:keep], self._speech[keep:]
        self._speech, self._probs = [], []
        # The dropped silence becomes look-back for the next utterance.
        self._lookback.clear()
        self._lookback.extend(dropped)
        events: list[SegmentEvent] = []
        if self._voiced * WINDOW / TAP_SAMPLE_RATE >= self.opt.min_speech:
            step = WINDOW / TAP_SAMPLE_RATE
            events.append(SegmentEvent("final", self._index, self._start,
                                       self._start + len(speech) * step,
                                       np.concatenate(speech), self._start))
        self._index += 1
        return events

    def quietest(self) -> int:
        """Index of the window where a too-long utterance is cut: the least speech-like
        window of the last ``split_search`` seconds (the latest of equals: the final
        caption keeps as much as it can)."""
        n = len(self._probs)
        lo = max(1, n - _windows(self.opt.split_search))
        best = lo
        for i in range(lo, n):
            if self._probs[i] <= self._probs[best]:
                best = i
        return best

    def _split(self) -> list[SegmentEvent]:
        """Cut a too-long utterance at its quietest point; the rest opens the next one."""
        cut = self.quietest()
        rest, rest_probs = self._speech[cut:], self._probs[cut:]
        self._speech, self._probs = self._speech[:cut], self._probs[:cut]
        self._last_voiced_end = len(self._speech)
        start = self._start
        events = self._close(keep_all=True)
        step = WINDOW / TAP_SAMPLE_RATE
        self._lookback.clear()
        self._start = start + cut * step
        self._speech, self._probs = rest, rest_probs
        self._voiced = sum(1 for q in rest_probs if q >= self.opt.threshold)
        self._silent = 0
        self._partial_from = 0
        self._last_voiced_end = len(rest)
        return events

    def flush(self) -> list[SegmentEvent]:
        """The stream ended: close any open utterance."""
        return self._close() if self._speech else []
