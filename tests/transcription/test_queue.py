"""The Redis Streams hand-off: ack after store, takeover from a killed worker, idempotent ids."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from media.tap import Speaker
from transcription.audio import float_to_int16
from transcription.metrics import wer
from transcription.queue import (
    FinishedSegment,
    enqueue,
    ensure_group,
    run_worker,
    utterance_id_for,
)
from transcription.utterance import Caption, Utterance

from .conftest import EN, references

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).parents[2]
ALICE = Speaker("p-alice", "Alice", "party")
WAIT_STEP = 0.05
WAIT_LIMIT = 120.0
"""Seconds the kill test may wait for a condition before failing (a hang guard only)."""

pytestmark = pytest.mark.redis


def segment(audio: np.ndarray, caucus: str | None = "c1") -> FinishedSegment:
    return FinishedSegment("s1", ALICE, caucus, 3.0, 3.0 + audio.size / 16_000, "en",
                           float_to_int16(audio))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll a condition (never assert on time itself; the limit only stops a hang)."""
    for _ in range(int(WAIT_LIMIT / WAIT_STEP)):
        if await check():
            return
        await asyncio.sleep(WAIT_STEP)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_segment_survives_the_stream_encoding(jfk: np.ndarray) -> None:
    seg = segment(jfk[:16_000])
    fields = {k.encode(): v for k, v in seg.to_fields().items()}
    back = FinishedSegment.from_fields(fields)
    assert back.speaker == ALICE and back.caucus_id == "c1" and back.language == "en"
    np.testing.assert_array_equal(back.audio, seg.audio)


def test_utterance_ids_are_deterministic_per_entry() -> None:
    assert utterance_id_for("k", "1-0") == utterance_id_for("k", "1-0")
    assert utterance_id_for("k", "1-0") != utterance_id_for("k", "1-1")


async def test_a_worker_stores_then_acknowledges(redis_prefix: str, jfk: np.ndarray) -> None:
    client = aioredis.from_url(REDIS_URL)
    stream = f"{redis_prefix}:segments"
    stored: list[Utterance] = []
    stop = asyncio.Event()
    pending_at_store: list[int] = []

    def fake(seg: FinishedSegment, uid: str) -> Utterance:
        return Caption(uid, seg.session_id, seg.speaker, seg.caucus_id, seg.start, seg.end,
                       "hello", True, "fake", 1.0, seg.language)

    async def store(u: Utterance) -> None:
        pending_at_store.append(int((await client.xpending(stream, "g"))["pending"]))
        stored.append(u)
        stop.set()

    await ensure_group(client, stream, "g")
    entry = await enqueue(client, segment(jfk[:8000]), stream=stream)
    await asyncio.wait_for(run_worker(REDIS_URL, store, transcribe=fake, stream=stream,
                                      group="g", block_ms=100, stop=stop), WAIT_LIMIT)
    assert [u.utterance_id for u in stored] == [utterance_id_for(stream, entry)]
    assert pending_at_store == [1]  # not acknowledged before the store returned
    assert (await client.xpending(stream, "g"))["pending"] == 0
    await client.aclose()


async def test_a_malformed_entry_is_dropped_without_stopping_the_worker(
        redis_prefix: str, jfk: np.ndarray) -> None:
    client = aioredis.from_url(REDIS_URL)
    stream = f"{redis_prefix}:segments"
    await ensure_group(client, stream, "g")
    await client.xadd(stream, {"meta": b"not json"})
    await enqueue(client, segment(jfk[:8000]), stream=stream)
    stop = asyncio.Event()
    stored: list[Utterance] = []

    def fake(seg: FinishedSegment, uid: str) -> Utterance:
        return Caption(uid, "s1", ALICE, None, 0, 1, "ok", True, "fake", 1.0, "en")

    async def store(u: Utterance) -> None:
        stored.append(u)
        stop.set()

    await asyncio.wait_for(run_worker(REDIS_URL, store, transcribe=fake, stream=stream,
                                      group="g", block_ms=100, stop=stop), WAIT_LIMIT)
    assert len(stored) == 1
    assert (await client.xpending(stream, "g"))["pending"] == 0
    await client.aclose()


def start_worker(prefix: str, consumer: str, claim_ms: int, stall: bool = False
                 ) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tests.transcription.worker_process", REDIS_URL, prefix,
            consumer, str(claim_ms)] + (["stall"] if stall else [])
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
async def test_a_worker_killed_mid_utterance_loses_nothing_and_stores_once(
        redis_prefix: str, jfk: np.ndarray, tiny_config: object) -> None:
    client = aioredis.from_url(REDIS_URL)
    stream = f"{redis_prefix}:segments"
    await ensure_group(client, stream, "workers")
    entry = await enqueue(client, segment(jfk), stream=stream)
    first = start_worker(redis_prefix, "worker-a", claim_ms=60_000, stall=True)
    second: subprocess.Popen[bytes] | None = None
    try:
        async def a_is_inside_the_utterance() -> bool:
            return bool(await client.get(f"{redis_prefix}:stalled"))
        await eventually(a_is_inside_the_utterance, "worker A to take the entry")
        first.send_signal(signal.SIGKILL)
        first.wait()
        info = await client.xpending(stream, "workers")
        assert info["pending"] == 1  # delivered to A, never acknowledged

        second = start_worker(redis_prefix, "worker-b", claim_ms=200)

        async def done() -> bool:
            return (await client.xpending(stream, "workers"))["pending"] == 0
        await eventually(done, "worker B to claim, store and acknowledge")
        stored = await client.hgetall(f"{redis_prefix}:stored")
        calls = await client.hgetall(f"{redis_prefix}:calls")
        uid = utterance_id_for(stream, entry)
        assert list(stored) == [uid.encode()]
        assert calls == {uid.encode(): b"1"}
        record = json.loads(stored[uid.encode()])
        assert record["speaker"]["participant_id"] == "p-alice" and record["caucus"] == "c1"
        assert record["final"] is True and record["model"] == "tiny.en"
        assert wer([references(EN)["jfk.flac"]], [record["text"]]) < 0.15
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait()
        await client.aclose()
