"""PEP 517 build backend: setuptools, plus the speaker-encoder weights fetched at build time.

The embedded diarizer runs Resemblyzer's GE2E speaker encoder in numpy
(``transcription/voice_encoder.py``). Its trained weights (``pretrained.pt``, 17 MB,
Apache-2.0) are published only inside the ``resemblyzer`` wheel, whose declared
dependencies pull torch and librosa, which the service must not need. Extras cannot say
"install this one without its dependencies", and the project never commits model weights,
so the build itself asks pip for that one wheel (``pip download --no-deps``, through the
same index and configuration as the install that runs the build), checks the weights'
SHA-256, and puts them with Resemblyzer's licence and an attribution note in
``transcription/weights/`` (git-ignored). A wheel built this way carries them as package
data; an editable install reads them from the source tree.

A build that cannot fetch them (offline, ``TIAOJIE_BUILD_WITHOUT_WEIGHTS=1``) still
succeeds: the rest of the service works and the diarizer says how to get them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess  # nosec B404: runs this interpreter's pip with fixed arguments
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401 (re-exported hooks)
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = ROOT / "transcription" / "weights"
WEIGHTS_FILE = "pretrained.pt"
SOURCE = "resemblyzer==0.1.4"
SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
"""Of ``resemblyzer/pretrained.pt`` in Resemblyzer 0.1.4 (its wheel's RECORD says the same)."""
NOTICE = """\
pretrained.pt: the GE2E speaker encoder weights of Resemblyzer 0.1.4,
Copyright Corentin Jemine / Resemble AI, https://github.com/resemble-ai/Resemblyzer,
licensed under the Apache License 2.0 (LICENSE in this folder). Unmodified; fetched from
the resemblyzer wheel when Tiaojie was built, and read by transcription/voice_encoder.py.
"""


def _say(message: str) -> None:
    print(f"tiaojie build: {message}", file=sys.stderr, flush=True)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_weights(target: Path = WEIGHTS_DIR) -> bool:
    """Put the checked weights, licence and notice in ``target``; False if it could not."""
    weights = target / WEIGHTS_FILE
    if weights.is_file() and _digest(weights) == SHA256:
        return True
    if os.environ.get("TIAOJIE_BUILD_WITHOUT_WEIGHTS") == "1":
        _say("TIAOJIE_BUILD_WITHOUT_WEIGHTS=1: building without the speaker-encoder weights")
        return False
    with tempfile.TemporaryDirectory(prefix="tiaojie-weights-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "--dest", tmp, SOURCE]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # nosec B603
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            _say(f"could not fetch {SOURCE} for the speaker-encoder weights "
                 f"(the embedded diarizer will be unavailable): {done.stderr.strip()[-500:]}")
            return False
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(f"resemblyzer/{WEIGHTS_FILE}")
            licence = next((wheel.read(n) for n in wheel.namelist()
                            if n.endswith(".dist-info/LICENSE")), b"")
    if hashlib.sha256(data).hexdigest() != SHA256:
        _say(f"{SOURCE}'s weights do not have the expected SHA-256; not installing them")
        return False
    target.mkdir(parents=True, exist_ok=True)
    (target / "LICENSE").write_bytes(licence)
    (target / "NOTICE").write_text(NOTICE, encoding="utf-8")
    partial = weights.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(weights)  # never a half-written weights file under the final name
    _say(f"speaker-encoder weights from {SOURCE} in {target}")
    return True


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    fetch_weights()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    fetch_weights()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    # An sdist carries no weights: the wheel built from it fetches them.
    return str(_setuptools.build_sdist(sdist_directory, config_settings))


if __name__ == "__main__":
    # ``python build_backend/tiaojie_build.py``: fetch them into an existing checkout.
    sys.exit(0 if fetch_weights() else 1)
