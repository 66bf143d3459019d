"""Model resolution: local directory first, packaged base, then tiny.en; clear refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from transcription import models
from transcription.errors import LanguageNotSupported, ModelCorrupt, ModelNotFound
from transcription.models import TranscriptionConfig, candidates, load, resolve


def test_packaged_models_resolve_base_before_tiny_en(tmp_path: Path) -> None:
    found = candidates(TranscriptionConfig(cache_dir=tmp_path))
    assert [spec.name for spec in found] == ["base", "tiny.en"]
    assert found[0].multilingual and not found[1].multilingual
    assert (found[0].path / "model.bin").stat().st_size == models.BASE_SIZE


def test_base_is_assembled_once_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    first = models.assemble_base(tmp_path)
    assert first is not None
    stamp = (first / "model.bin").stat().st_mtime_ns
    assert models.assemble_base(tmp_path) == first
    assert (first / "model.bin").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in first.iterdir()) == sorted(models.MODEL_FILES)


def test_a_bad_checksum_is_refused_and_nothing_is_left_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "BASE_SHA256", "0" * 64)
    with pytest.raises(ModelCorrupt) as err:
        models.assemble_base(tmp_path)
    assert err.value.code == "model_corrupt"
    assert not (tmp_path / "whisper-base" / "model.bin").exists()
    assert not list((tmp_path / "whisper-base").glob(".model.bin.*"))


def test_chinese_picks_the_multilingual_model(tmp_path: Path) -> None:
    assert resolve(TranscriptionConfig(cache_dir=tmp_path), "zh").name == "base"


def test_chinese_with_only_tiny_en_is_refused_with_a_clear_error(
        tiny_config: TranscriptionConfig) -> None:
    with pytest.raises(LanguageNotSupported) as err:
        load(tiny_config, "zh")
    assert err.value.code == "language_not_supported"
    assert "multilingual" in err.value.message
    assert resolve(tiny_config, "en").name == "tiny.en"


def test_english_only_model_in_an_operator_directory_is_refused_for_chinese(
        tmp_path: Path) -> None:
    tiny = models.packaged_tiny_en()
    assert tiny is not None
    local = tmp_path / "my-model"
    shutil.copytree(tiny, local)
    config = TranscriptionConfig(model_dir=local, cache_dir=tmp_path)
    assert resolve(config, "en").name == "local:my-model"
    with pytest.raises(LanguageNotSupported):
        load(config, "zh")


def test_the_operator_directory_wins_over_packaged_models(
        tmp_path: Path, base_config: TranscriptionConfig) -> None:
    spec = resolve(base_config, "zh")
    config = TranscriptionConfig(model_dir=spec.path, cache_dir=tmp_path)
    chosen = resolve(config, "zh")
    assert chosen.name == f"local:{spec.path.name}" and chosen.multilingual


def test_a_missing_operator_directory_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as err:
        resolve(TranscriptionConfig(model_dir=tmp_path / "nope", cache_dir=tmp_path))
    assert err.value.to_dict()["code"] == "model_not_found"


def test_no_packaged_model_installed_is_model_not_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_package_dir", lambda package, sub: None)
    with pytest.raises(ModelNotFound) as err:
        resolve(TranscriptionConfig(cache_dir=tmp_path))
    assert "models" in err.value.message


def test_loaded_models_are_shared_within_the_process(base_config: TranscriptionConfig) -> None:
    assert load(base_config, "zh")[1] is load(base_config, "en")[1]
