"""Stopping background tasks so that they are really stopped.

One ``cancel()`` is not always enough on CPython 3.11: a cancellation that arrives while a
task awaits a database query (SQLAlchemy's asyncio layer over asyncpg) can be swallowed,
and the task goes on as if nothing happened. Measured: the expert sweeper, cancelled at
shutdown with a query in flight, went on sweeping every 0.1 s and held the server's
shutdown until the test timed out (tests/experts/test_takeover.py, 2 hangs in 8 runs;
instrumented, the ``cancelling()`` count was set after the query returned normally).
``cancel_and_wait`` cancels again until every task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

RETRY_S = 0.2
"""How long a cancelled task gets before it is cancelled again."""


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]], *,
                          retry_s: float = RETRY_S) -> None:
    """Cancel ``tasks`` and return once every one has ended (re-cancelling any task that
    swallowed its cancellation). Their exceptions are retrieved, never raised."""
    tasks = list(tasks)
    pending = {t for t in tasks if not t.done()}
    while pending:
        for t in pending:
            t.cancel()
        _done, pending = await asyncio.wait(pending, timeout=retry_s)
    await asyncio.gather(*tasks, return_exceptions=True)
