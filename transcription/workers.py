"""The inference pool: worker threads that decode audio off the event loop.

Finals outrank partials in one priority queue, so a backlog delays live partial
captions, never the transcript. Modelled on aiortc's ``decoder_worker``: a thread,
a queue in, and ``run_coroutine_threadsafe`` back out (done by the caller's callback).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

FINAL = 0
"""Priority of a final-caption job (lower runs first)."""
PARTIAL = 1
"""Priority of a partial-caption job."""
IDLE = 5
"""Priority of idle-time work (the record's second pass): it starts only when nothing
else is queued AND the pool's idle gate says so (nobody is speaking)."""
IDLE_POLL = 0.05
"""Seconds a worker waits before asking the idle gate again."""


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[], None] = field(compare=False)


class WorkerPool:
    """A fixed number of daemon threads running submitted callables by priority."""

    def __init__(self, size: int, name: str = "transcription",
                 idle_gate: Callable[[], bool] | None = None) -> None:
        if size < 1:
            raise ValueError(f"worker pool size must be >= 1, got {size}")
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._gate = idle_gate
        self._busy = 0
        """Urgent jobs (finals, partials) queued or running, and idle jobs running."""
        self._idle_queued = 0
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(size)]
        for t in self._threads:
            t.start()

    @property
    def size(self) -> int:
        """Number of worker threads."""
        return len(self._threads)

    def submit(self, priority: int, run: Callable[[], None]) -> None:
        """Queue ``run``; it must not raise (errors are logged and dropped anyway)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("worker pool is closed")
            if priority >= IDLE:
                self._idle_queued += 1
            else:
                self._busy += 1
        self._queue.put(_Job(priority, next(self._seq), run))

    def backlog(self) -> int:
        """Jobs that occupy or will occupy a worker before new work: urgent jobs queued
        or running, and idle jobs running (queued idle jobs wait, so they do not count)."""
        with self._cond:
            return self._busy

    def wait_idle(self, timeout: float | None = None, *, idle_jobs: bool = False) -> bool:
        """Block until every submitted urgent job has finished (and, with ``idle_jobs``,
        every idle-time job too)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._busy == 0 and (not idle_jobs or self._idle_queued == 0), timeout)

    def close(self, discard: bool = False) -> None:
        """Stop the threads after the queued jobs (a sentinel sorts after every real job).

        ``discard``: drop the jobs not yet started (a server shutting down does not owe
        captions to a room that is closing); the running ones finish."""
        with self._cond:
            self._closed = True
        if discard:
            while True:
                try:
                    dropped = self._queue.get_nowait()
                except queue.Empty:
                    break
                with self._cond:
                    if dropped.priority >= IDLE:
                        self._idle_queued -= 1
                    else:
                        self._busy -= 1
                    self._cond.notify_all()
        for _ in self._threads:
            self._queue.put(_Job(99, next(self._seq), _stop))
        for t in self._threads:
            t.join()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job.run is _stop:
                return
            idle = job.priority >= IDLE
            if idle:
                with self._cond:
                    closing = self._closed
                if not closing and self._gate is not None and not self._gate():
                    # It sorted first, so nothing urgent is queued; but someone is
                    # speaking, and a final will follow: leave the worker free for it.
                    self._queue.put(job)
                    time.sleep(IDLE_POLL)
                    continue
                with self._cond:
                    self._idle_queued -= 1
                    self._busy += 1
            try:
                job.run()
            except Exception:  # one bad job never kills the worker
                log.exception("transcription job failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()


def _stop() -> None:
    """Sentinel job."""
