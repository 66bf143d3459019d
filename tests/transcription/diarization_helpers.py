"""Reference annotations and DER scoring for the shared diarization recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from media.tap import TAP_SAMPLE_RATE
from transcription.diarization import Turn

from .conftest import DIAR


def read_rttm(path: Path) -> dict[str, Annotation]:
    """Annotations by file id."""
    out: dict[str, Annotation] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        start = float(parts[3])
        ann = out.setdefault(parts[1], Annotation(uri=parts[1]))
        ann[Segment(start, start + float(parts[4]))] = parts[7]
    return out


def reference(name: str) -> tuple[Annotation, Timeline | None]:
    """The reference turns of ``name`` and its scored region (UEM), if any."""
    refs = read_rttm(DIAR / "sample.rttm") | read_rttm(DIAR / "dev.rttm")
    uem = None
    for line in (DIAR / "dev.uem").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            uem = Timeline([Segment(float(parts[2]), float(parts[3]))])
    return refs[name], uem


def der(name: str, turns: list[Turn]) -> float:
    """Diarization error rate with a 0.25 s collar."""
    ref, uem = reference(name)
    hyp = Annotation(uri=name)
    for t in turns:
        hyp[Segment(t.start, t.end)] = t.speaker
    metric = DiarizationErrorRate(collar=0.25)
    return float(metric(ref, hyp, uem=uem or ref.get_timeline().extent()))


def enrollment_from_reference(name: str, audio: npt.NDArray[np.float32],
                              seconds: float = 4.0) -> dict[str, npt.NDArray[np.float32]]:
    """A reference clip per speaker: up to ``seconds`` of their longest solo turn.

    Stands in for the sentence each person reads at the device check.
    """
    ref, _ = reference(name)
    clips: dict[str, npt.NDArray[np.float32]] = {}
    for label in ref.labels():
        others = Timeline([s for s, _, lab in ref.itertracks(yield_label=True) if lab != label])
        solo = ref.label_timeline(label).support().extrude(others.support())
        best = max(solo, key=lambda s: s.duration)
        lo = int(best.start * TAP_SAMPLE_RATE)
        hi = int(min(best.end, best.start + seconds) * TAP_SAMPLE_RATE)
        clips[label] = audio[lo:hi]
    return clips
