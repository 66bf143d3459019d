"""Every benchmark has a ``--smoke`` mode, which CI runs (``.ci/run``) so that a benchmark
that no longer works fails the build instead of rotting unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.slow  # starts one process per benchmark, each importing the whole service
def test_every_benchmark_offers_a_smoke_mode() -> None:
    assert BENCHMARKS
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # --help only parses the command line; all at once, since each imports the service.
    runs = {b.name: subprocess.Popen([sys.executable, str(b), "--help"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
            for b in BENCHMARKS}
    helps = {name: p.communicate(timeout=120) for name, p in runs.items()}
    failed = {name: out[-500:] for name, (out, _) in helps.items() if runs[name].returncode}
    assert not failed, failed
    missing = sorted(name for name, (out, _) in helps.items() if "--smoke" not in out)
    assert not missing, f"benchmarks without --smoke: {missing}"
