"""One SFU worker per core: ``tiaojie media --workers N`` runs N media processes.

An SFU process is one Python event loop, so it uses one core however many the machine
has (mediasoup runs one C++ worker per core for the same reason). ``MediaWorkers`` starts
N ``tiaojie media --workers 1`` processes, each with its own event loop, its own UDP
sockets and its own HTTP port (``port + i``, for ``/healthz`` and ``/metrics``), and each
registered in the session placement as a node of its own (``<node id>-w<i>``). So the
existing placement puts every new session on the least-loaded worker, and a worker that
dies loses its sessions exactly as a dead node does: its registration is dropped or
expires, the next message re-places the session on a live worker, and the browsers'
restart (a new peer connection) lands there. The supervisor itself holds no session: it
only starts the workers, restarts one that exits, and stops them all on SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("tiaojie.media.workers")

RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits before restarting a worker that keeps dying within ``STABLE_AFTER_S`` of its start."""
STABLE_AFTER_S = 30.0
"""A worker that ran this long before exiting is restarted at once (its backoff resets)."""
STOP_GRACE_S = 10.0
"""Seconds the workers get to close their sessions after SIGTERM before SIGKILL."""
POLL_S = 0.2


def default_worker_count() -> int:
    """One worker per core this process may run on (CPU affinity, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Worker:
    """One media worker process and its restart history."""

    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    """Exits in a row that came soon after a start."""
    due: float | None = None
    """When a worker seen dead may be started again (None while it runs)."""


@dataclass
class MediaWorkers:
    """Starts, watches and stops N media worker processes."""

    count: int
    """Worker processes to keep running."""
    command: Callable[[int], list[str]]
    """Worker i's command line."""
    environment: Callable[[int], dict[str, str]]
    """Worker i's environment."""
    workers: list[Worker] = field(default_factory=list)
    _stopping: bool = False

    def start(self) -> None:
        self.workers = [Worker(i) for i in range(self.count)]
        for w in self.workers:
            self._spawn(w)

    def _spawn(self, w: Worker) -> None:
        w.proc = subprocess.Popen(self.command(w.index), env=self.environment(w.index))
        w.started = time.monotonic()
        log.info("media worker %d started (pid %d)", w.index, w.proc.pid)

    def check(self) -> None:
        """Restart any worker that exited (after its backoff); call every ``POLL_S``."""
        now = time.monotonic()
        for w in self.workers:
            if w.proc is None or self._stopping:
                continue
            code = w.proc.poll()
            if code is None:
                continue
            if w.due is None:
                quick = now - w.started < STABLE_AFTER_S
                w.failures = w.failures + 1 if quick else 0
                wait = (RESTART_BACKOFF_S[min(w.failures, len(RESTART_BACKOFF_S)) - 1]
                        if quick else 0.0)
                w.due = now + wait
                log.warning("media worker %d (pid %d) exited with %s; its sessions move to "
                            "the other workers; restarting in %.1f s",
                            w.index, w.proc.pid, code, wait)
            if now >= w.due:
                w.due = None
                self._spawn(w)

    def stop(self) -> None:
        """SIGTERM every worker, then SIGKILL those still running after the grace."""
        self._stopping = True
        live = [w.proc for w in self.workers if w.proc is not None and w.proc.poll() is None]
        for p in live:
            p.terminate()
        end = time.monotonic() + STOP_GRACE_S
        for p in live:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit code for the supervisor."""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        try:
            while not self._stopping:
                self.check()
                time.sleep(POLL_S)
        finally:
            self.stop()
        return 0


def worker_command(index: int, host: str, port: int) -> list[str]:
    """``tiaojie media`` for worker ``index``: one process, its own HTTP port."""
    return [sys.executable, "-m", "signaling.cli", "media", "--workers", "1",
            "--host", host, "--port", str(port + index)]


def worker_environment(index: int, node_id: str) -> dict[str, str]:
    """The supervisor's environment with worker ``index``'s placement node id."""
    return dict(os.environ, TIAOJIE_NODE_ID=f"{node_id}-w{index}")
