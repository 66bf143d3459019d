"""Feeding recordings into a pipeline as the SFU tap would, on a fake clock."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE, Speaker, TapChunk
from transcription.audio import float_to_int16
from transcription.pipeline import TranscriptionPipeline

FRAME = 320
"""20 ms, the SFU's audio frame."""


def with_silence(audio: npt.NDArray[np.float32], before: float = 0.5,
                 after: float = 1.0) -> npt.NDArray[np.float32]:
    """Pad a clip with silence, as speech sits between pauses in a session."""
    return np.concatenate([np.zeros(int(before * TAP_SAMPLE_RATE), np.float32), audio,
                           np.zeros(int(after * TAP_SAMPLE_RATE), np.float32)])


async def stream(pipeline: TranscriptionPipeline, audio: npt.NDArray[np.float32],
                 speaker: Speaker, caucus: str | None = None, start: float = 0.0,
                 session: str = "s1", settle_every: float = 0.5,
                 heard_by: frozenset[str] = frozenset()) -> float:
    """Push 20 ms frames; every ``settle_every`` seconds of audio, wait for the pipeline.

    Waiting for the pipeline instead of sleeping is the fake clock: decoding always
    keeps up, as it does in real time on a machine sized for the load.
    """
    samples = float_to_int16(audio)
    settle = int(settle_every * TAP_SAMPLE_RATE)
    for i in range(0, samples.size, FRAME):
        pipeline.push(TapChunk(session, speaker, caucus, samples[i:i + FRAME],
                               start + i / TAP_SAMPLE_RATE, heard_by))
        if (i + FRAME) % settle < FRAME:
            await pipeline.drain()
    await pipeline.drain()
    return start + samples.size / TAP_SAMPLE_RATE
