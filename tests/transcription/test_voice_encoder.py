"""The GE2E voice encoder running in numpy from Resemblyzer's packaged weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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


@pytest.mark.slow
def test_frames_cover_the_audio_every_step() -> None:
    embeds, centres = shared_encoder().embed_frames(decode_file(EN / "jfk.flac"), step=0.5)
    assert embeds.shape[1] == 256 and len(embeds) == len(centres)
    assert np.allclose(np.diff(centres), 0.5)


def test_the_build_puts_the_weights_in_the_package_with_their_licence() -> None:
    """One ``pip install`` brings them: no second command, no resemblyzer installed."""
    assert voice_encoder.weights_path() == voice_encoder.PACKAGED_WEIGHTS
    folder = voice_encoder.PACKAGED_WEIGHTS.parent
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Resemblyzer" in (folder / "NOTICE").read_text(encoding="utf-8")


def test_missing_weights_are_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setattr(voice_encoder, "PACKAGED_WEIGHTS", tmp_path / "pretrained.pt")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DiarizerUnavailable) as err:
        voice_encoder.weights_path()
    assert "pip install -e '.[models]'" in err.value.message


@pytest.mark.slow
def test_the_build_step_fetches_the_checked_weights_with_their_licence(tmp_path: Path) -> None:
    """What ``pip install`` runs: resemblyzer's wheel is downloaded (not installed, so
    nothing pulls torch) and its weights, checked, land in the folder."""
    import sys

    sys.path.insert(0, str(Path(voice_encoder.__file__).resolve().parents[1] / "build_backend"))
    try:
        import tiaojie_build
    finally:
        sys.path.pop(0)
    assert tiaojie_build.fetch_weights(tmp_path)
    assert tiaojie_build._digest(tmp_path / "pretrained.pt") == tiaojie_build.SHA256
    assert "Apache License" in (tmp_path / "LICENSE").read_text(encoding="utf-8")
    assert voice_encoder.load_legacy_state_dict(tmp_path / "pretrained.pt")["linear.weight"].shape \
        == (256, 256)
    # A second build finds them in place and fetches nothing.
    assert tiaojie_build.fetch_weights(tmp_path)


def test_a_weights_file_that_names_any_other_global_is_refused(tmp_path: Path) -> None:
    """The weights are read with pickle: only the few globals a torch state dict uses are
    mapped; a file that asks for anything else (``os.system`` here) is refused before it
    runs."""
    import os
    import pickle

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo owned > " + str(tmp_path / "owned"),))

    bad = tmp_path / "pretrained.pt"
    with bad.open("wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(header, f)
        pickle.dump(Payload(), f)
    with pytest.raises(pickle.UnpicklingError, match="unexpected global"):
        voice_encoder.load_legacy_state_dict(bad)
    assert not (tmp_path / "owned").exists()
