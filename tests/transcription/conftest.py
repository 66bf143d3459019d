"""Fixtures for the transcription tests: the real packaged models and the shared recordings.

Each model is loaded once per test session (``models.load`` caches per process).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from transcription.audio import decode_file
from transcription.models import TranscriptionConfig, load

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
EN = DATA / "speech" / "en"
ZH = DATA / "speech" / "zh"
DIAR = DATA / "diarization"


def references(folder: Path) -> dict[str, str]:
    """``file -> reference transcript`` from a ``transcripts.tsv``."""
    with (folder / "transcripts.tsv").open(encoding="utf-8") as f:
        return {row[0]: row[1] for row in csv.reader(f, delimiter="\t") if len(row) >= 2}


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory per session: the base model is assembled into it once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def base_config(model_cache: Path) -> TranscriptionConfig:
    """The multilingual packaged base model, greedy decoding (the live default)."""
    config = TranscriptionConfig(cache_dir=model_cache, prefer="base", language="zh")
    load(config, "zh")
    return config


@pytest.fixture(scope="session")
def tiny_config(model_cache: Path) -> TranscriptionConfig:
    """The English-only packaged tiny.en model."""
    config = TranscriptionConfig(cache_dir=model_cache, prefer="tiny.en", language="en")
    load(config, "en")
    return config


@pytest.fixture(scope="session")
def jfk() -> npt.NDArray[np.float32]:
    """jfk.flac, 11 s of one speaker, decoded once."""
    return decode_file(EN / "jfk.flac")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    import uuid

    import redis

    prefix = f"tj-test-transcription:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
