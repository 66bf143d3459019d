"""Work a node does every so often, and notices that must go out once across nodes.

``Periodic`` runs one pass of some work every ``interval_s`` on this node, started and
stopped with the app (the session reminders of ``signaling/scheduling.py``, the 司法确认
deadline reminders of ``agreements/deadlines.py``). A pass that fails (the database away
for a moment) is logged and the next pass tries again; ``passes`` counts completed passes
so that tests wait on it instead of on the wall clock.

``claim_once`` and ``finish`` are the once-only send: a pass claims a notice by inserting a
row under the notice's unique key before sending it, so whoever inserts the row sends it,
once across restarts and nodes. A send that failed is marked so and claimed again by a
later pass (by one node: the status moves from ``failed`` to ``sending`` in one UPDATE); a
node that dies between the claim and the send loses that one notice rather than sending it
twice. The row model needs the columns ``id``, ``status``, ``error`` and ``sent_at``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.tasks import cancel_and_wait

Clock = Callable[[], datetime]
Pass = Callable[[datetime], Awaitable[object]]


class Periodic:
    """Runs ``work(clock())`` every ``interval_s`` on this node until stopped."""

    def __init__(self, name: str, work: Pass, interval_s: float, clock: Clock = utcnow) -> None:
        self.name = name
        self.work = work
        self.interval_s = interval_s
        self.clock = clock
        self.passes = 0
        """Completed passes (tests wait on it instead of on the wall clock)."""
        self._task: asyncio.Task[None] | None = None
        self._log = logging.getLogger(f"tiaojie.periodic.{name}")

    async def _run(self) -> None:
        while True:
            try:
                await self.work(self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away for a moment: the next pass retries
                self._log.exception("%s pass failed", self.name)
            self.passes += 1
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"periodic:{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None


async def claim_once(
    database: Database, model: Any, key: Mapping[str, object], **columns: object
) -> str | None:
    """The id of the notice's row if this pass won the right to send it, else None.

    ``key`` holds the columns of the row's unique key; ``columns`` the rest of a new row
    (a masked address, say)."""
    async with database.session() as db:
        row = model(**key, **columns, status="sending")
        db.add(row)
        try:
            await db.commit()
            return str(row.id)
        except IntegrityError:
            await db.rollback()
        # Claimed before: only a failed send is tried again, by one node.
        failed = await db.scalar(
            select(model.id).where(
                *(getattr(model, name) == value for name, value in key.items()),
                model.status == "failed",
            )
        )
        if failed is None:
            return None
        won = await db.execute(
            update(model)
            .where(model.id == failed, model.status == "failed")
            .values(status="sending")
        )
        await db.commit()
        return str(failed) if won.rowcount == 1 else None  # type: ignore[attr-defined]


async def finish(database: Database, model: Any, row_id: str, error: str) -> None:
    """Mark a claimed notice sent, or failed (an empty ``error`` means sent)."""
    async with database.session() as db:
        await db.execute(
            update(model)
            .where(model.id == row_id)
            .values(
                status="failed" if error else "sent",
                error=error[:200],
                sent_at=None if error else utcnow(),
            )
        )
        await db.commit()
