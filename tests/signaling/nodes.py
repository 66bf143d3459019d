"""Start real ``tiaojie serve`` processes for multi-node tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port


@dataclass
class Node:
    """One server process."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def node_env(database_url: str, redis_url: str, prefix: str, data_dir: Path,
             **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "TIAOJIE_DATABASE_URL": database_url, "TIAOJIE_REDIS_URL": redis_url,
        "TIAOJIE_REDIS_PREFIX": prefix, "TIAOJIE_DATA_DIR": str(data_dir),
        "TIAOJIE_ENV": "test", "TIAOJIE_MEDIA_ENABLED": "false",
        "TIAOJIE_TRANSCRIPTION_ENABLED": "false",
        # One assembled copy of the packaged model for every test process.
        "TIAOJIE_MODEL_CACHE_DIR": str(Path.home() / ".cache" / "tiaojie" / "models"),
    })
    env.update(extra)
    return env


def start_node(env: dict[str, str], log_dir: Path, port: int | None = None,
               command: str = "serve") -> Node:
    """``tiaojie serve`` (or ``command``, e.g. ``media``) on a free port, once healthy."""
    port = port or free_port()
    log = log_dir / f"node-{port}.log"
    env = dict(env, TIAOJIE_PORT=str(port), TIAOJIE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "signaling.cli", command], env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
    node = Node(port, proc, log)
    wait_healthy(node)
    return node


def wait_healthy(node: Node, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if node.proc.poll() is not None:
            raise RuntimeError(f"node exited: {node.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(node.url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"node on {node.port} not healthy: {node.log.read_text()[-2000:]}")


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "signaling.cli", *args], env=env,
                         input=stdin.encode() if stdin else None, capture_output=True,
                         timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"tiaojie {' '.join(args[:2])} failed: {out.stderr.decode()[-3000:]}")
    return out.stdout.decode()
