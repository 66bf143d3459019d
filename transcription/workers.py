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
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

FINAL = 0
"""Priority of a final-caption job (lower runs first)."""
PARTIAL = 1
"""Priority of a partial-caption job."""


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[], None] = field(compare=False)


class WorkerPool:
    """A fixed number of daemon threads running submitted callables by priority."""

    def __init__(self, size: int, name: str = "transcription") -> None:
        if size < 1:
            raise ValueError(f"worker pool size must be >= 1, got {size}")
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._busy = 0
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
            self._busy += 1
        self._queue.put(_Job(priority, next(self._seq), run))

    def backlog(self) -> int:
        """Jobs queued or running."""
        with self._cond:
            return self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has finished."""
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout)

    def close(self, discard: bool = False) -> None:
        """Stop the threads after the queued jobs (a sentinel sorts after every real job).

        ``discard``: drop the jobs not yet started (a server shutting down does not owe
        captions to a room that is closing); the running ones finish."""
        with self._cond:
            self._closed = True
        if discard:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
                with self._cond:
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
