"""The GE2E voice encoder running in numpy from Resemblyzer's packaged weights."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from transcription import voice_encoder
from transcription.audio import decode_file
from transcription.errors import DiarizerUnavailable
from transcription.voice_encoder import shared_encoder

from .conftest import EN


def test_two_clips_of_one_voice_are_closer_than_clips_of_two_voices() -> None:
    enc = shared_encoder()
    a1, a2, b1 = (enc.embed_utterance(decode_file(EN / f))
                  for f in ("spk1_snt1.wav", "spk1_snt2.wav", "spk2_snt1.wav"))
    assert np.isclose(np.linalg.norm(a1), 1.0, atol=1e-4)
    assert float(a1 @ a2) > 0.7 > float(a1 @ b1)


def test_frames_cover_the_audio_every_step() -> None:
    embeds, centres = shared_encoder().embed_frames(decode_file(EN / "jfk.flac"), step=0.5)
    assert embeds.shape[1] == 256 and len(embeds) == len(centres)
    assert np.allclose(np.diff(centres), 0.5)


def test_missing_weights_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DiarizerUnavailable) as err:
        voice_encoder.weights_path()
    assert "no-deps resemblyzer" in err.value.message
