"""Stopping background tasks: one that swallows its cancellation is cancelled again."""

from __future__ import annotations

import asyncio

from signaling.tasks import cancel_and_wait


async def test_a_task_that_swallows_its_cancellation_is_still_stopped() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                # What a library can do on CPython 3.11 while a query is in flight.
                swallowed += 1
                if swallowed > 2:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0.02)
    await asyncio.wait_for(cancel_and_wait([task], retry_s=0.01), 5)
    assert task.done() and swallowed == 3


async def test_failures_are_retrieved_not_raised_and_done_tasks_are_fine() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    quiet = asyncio.create_task(asyncio.sleep(10))
    await cancel_and_wait([failed, quiet])
    assert failed.done() and quiet.cancelled()
    await cancel_and_wait([])
