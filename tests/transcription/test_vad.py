"""Streaming Silero VAD scores exactly as faster-whisper's whole-file call does."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import get_vad_model

from transcription.vad import WINDOW, StreamingVad


def test_twenty_millisecond_pieces_score_like_the_whole_recording(
        jfk: npt.NDArray[np.float32]) -> None:
    audio = jfk[: len(jfk) // WINDOW * WINDOW]
    whole = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad = StreamingVad()
    streamed = np.concatenate([vad.feed(audio[i:i + 320]) for i in range(0, len(audio), 320)])
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert (streamed > 0.5).mean() > 0.4  # jfk is mostly speech


def test_silence_scores_low() -> None:
    assert StreamingVad().feed(np.zeros(16_000, np.float32)).max() < 0.2
