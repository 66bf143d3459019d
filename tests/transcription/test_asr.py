"""Accuracy with the real packaged models on the shared recordings (bounds from the issue)."""

from __future__ import annotations

import pytest

from transcription.asr import recognize, to_simplified
from transcription.audio import decode_file
from transcription.metrics import cer, wer
from transcription.models import TranscriptionConfig, load

from .conftest import EN, ZH, references

WER_BOUND = 0.15
CER_BOUND = 0.40


@pytest.mark.slow
@pytest.mark.parametrize("model", ["tiny_config", "base_config"])
def test_english_clips_come_out_right(model: str, request: pytest.FixtureRequest) -> None:
    config: TranscriptionConfig = request.getfixturevalue(model)
    spec, whisper = load(config, "en")
    refs = references(EN)
    hyps = [recognize(whisper, decode_file(EN / name), "en").text for name in refs]
    score = wer(list(refs.values()), hyps)
    assert score < WER_BOUND, (spec.name, score, hyps)


@pytest.mark.slow
def test_mandarin_clips_come_out_right_with_the_multilingual_model(
        base_config: TranscriptionConfig) -> None:
    _spec, whisper = load(base_config, "zh")
    refs = references(ZH)
    results = [recognize(whisper, decode_file(ZH / name), "zh") for name in refs]
    assert all(r.language == "zh" and 0 < r.confidence <= 1 for r in results)
    score = cer(list(refs.values()), [r.text for r in results])
    assert score < CER_BOUND, (score, [r.text for r in results])


def test_traditional_characters_become_simplified() -> None:
    assert to_simplified("調解協議書") == "调解协议书"


def test_error_rates_count_edits_over_reference_length() -> None:
    assert wer(["ask not what"], ["Ask not, what?"]) == 0
    assert wer(["a b c d"], ["a x c"]) == 0.5
    assert cer(["换一首歌"], ["換一首歌。"]) == 0
