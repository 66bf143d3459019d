"""A transcription worker in its own process, for the kill test.

Usage: ``python -m tests.transcription.worker_process REDIS_URL PREFIX CONSUMER CLAIM_MS [stall]``.
Stores utterances in ``PREFIX:stored`` (an upsert keyed by utterance id, as the real
store is) and counts store calls in ``PREFIX:calls``. With ``stall`` the worker takes
an entry and then hangs inside the transcription, so the test can kill it mid-utterance.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

import redis.asyncio as aioredis

from transcription.models import TranscriptionConfig
from transcription.queue import FinishedSegment, QueueCipher, model_transcriber, run_worker
from transcription.utterance import Utterance


async def main(url: str, prefix: str, consumer: str, claim_ms: int, stall: bool) -> None:
    client = aioredis.from_url(url)
    real = model_transcriber(TranscriptionConfig(prefer="tiny.en", language="en"))

    def transcribe(segment: FinishedSegment, utterance_id: str) -> Utterance:
        if stall:
            asyncio.run_coroutine_threadsafe(mark_stalled(), loop).result()
            threading.Event().wait()  # hangs until the process is killed
        return real(segment, utterance_id)

    async def mark_stalled() -> None:
        await client.set(f"{prefix}:stalled", consumer)

    async def store(utterance: Utterance) -> None:
        record = json.dumps(utterance.to_record(), ensure_ascii=False)
        await client.hset(f"{prefix}:stored", utterance.utterance_id, record)
        await client.hincrby(f"{prefix}:calls", utterance.utterance_id, 1)

    loop = asyncio.get_running_loop()
    await run_worker(url, store, transcribe=transcribe, stream=f"{prefix}:segments",
                     cipher=QueueCipher.from_secret("queue-test-secret"),
                     group="workers", consumer=consumer, claim_idle_ms=claim_ms, block_ms=200)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                     len(sys.argv) > 5 and sys.argv[5] == "stall"))
