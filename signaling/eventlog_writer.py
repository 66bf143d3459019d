"""Writing a session's event log for the Hub: at once, or behind the broadcast.

``log_event`` stores one entry and answers its sequence number. ``write_behind`` queues
an entry for a writer task of its own session, so the room hears a chat line at once and
the log gets it a moment later, in order per session; ``flush`` (on shutdown) waits
until every queued entry is stored, then stops the writers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from signaling import eventlog
from signaling.context import Services
from signaling.tasks import cancel_and_wait

log = logging.getLogger("tiaojie.hub")


class EventLogWriter:
    """One per Hub: stores entries through ``signaling.eventlog``."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self._queues: dict[str, asyncio.Queue[Any]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def log_event(self, session_id: str, kind: str, *, actor_id: str | None = None,
                        caucus_id: str | None = None, payload: dict[str, Any] | None = None
                        ) -> int:
        async with self.s.db.session() as db:
            return await eventlog.append(db, session_id, kind, actor_id=actor_id,
                                         caucus_id=caucus_id, payload=payload)

    def write_behind(self, session_id: str, kind: str, actor_id: str | None,
                     caucus_id: str | None, payload: dict[str, Any]) -> None:
        q = self._queues.get(session_id)
        if q is None:
            q = self._queues[session_id] = asyncio.Queue()
            self._writers[session_id] = asyncio.create_task(self._writer(session_id, q))
        q.put_nowait((kind, actor_id, caucus_id, payload))

    async def _writer(self, session_id: str, q: asyncio.Queue[Any]) -> None:
        while True:
            kind, actor_id, caucus_id, payload = await q.get()
            try:
                await self.log_event(session_id, kind, actor_id=actor_id, caucus_id=caucus_id,
                                     payload=payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not log a %s event of session %s", kind, session_id)
            finally:
                q.task_done()

    async def flush(self) -> None:
        """Wait until every written-behind event is stored, then stop the writers."""
        for q in list(self._queues.values()):
            await q.join()
        await cancel_and_wait(self._writers.values())
        self._writers.clear()
        self._queues.clear()
