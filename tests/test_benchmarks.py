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


def test_a_cpu_slice_caps_a_busy_worker() -> None:
    """``benchmarks/sfu.py --worker-cpu``: a worker in its CpuSlice gets no more than its
    slice of a core, whatever it asks for (the comparison of worker counts rests on it)."""
    import importlib.util
    import uuid

    spec = importlib.util.spec_from_file_location("sfu_bench", ROOT / "benchmarks" / "sfu.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules["sfu_bench"] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    status: int | None = None
    cpu_slice = bench.CpuSlice(f"tiaojie-test-{uuid.uuid4().hex[:8]}", 0.1)
    spin = subprocess.Popen([sys.executable, "-c", "import time\nt = time.monotonic()\n"
                             "while time.monotonic() - t < 3: pass"])
    try:
        cpu_slice.add(spin.pid)
        _, status, used = os.wait4(spin.pid, 0)  # the spinner's own CPU time
    finally:
        if spin.returncode is None and status is None:
            spin.kill()
        cpu_slice.remove()
    assert status == 0
    # Three seconds of spinning at 0.1 of a core: about 0.3 s of CPU, never the 3 s it asked.
    assert used.ru_utime + used.ru_stime < 1.5


@pytest.mark.slow
def test_the_janus_mode_forwards_every_stream() -> None:
    """``benchmarks/sfu.py --modes janus``: the same bots publish into Janus VideoRoom and
    subscribe to each other, so that Janus's CPU per packet is measured beside ours."""
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sfu.py"), "--modes",
                          "janus", "--rooms", "1", "--duration", "2", "--warmup", "1",
                          "--carried", ""], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1].removeprefix("RESULT "))
    janus = result["modes"]["janus"]
    assert janus["streams_flowing"] == janus["streams"] == 24
    assert janus["delivery_pct"] > 50 and result["janus_cpu_us_per_packet"] > 0
