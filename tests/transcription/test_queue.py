"""The Redis Streams hand-off: ack after store, takeover from a killed worker, idempotent ids."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import redis.asyncio as aioredis

from media.tap import Speaker
from transcription.audio import float_to_int16
from transcription.metrics import wer
from transcription.queue import (
    FinishedSegment,
    QueueCipher,
    UndecryptableEntry,
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
CIPHER = QueueCipher.from_secret("queue-test-secret")
"""The key the producer seals with and the workers (here and in worker_process) open with."""
WAIT_STEP = 0.05
WAIT_LIMIT = 120.0
"""Seconds the kill test may wait for a condition before failing (a hang guard only)."""

pytestmark = pytest.mark.redis


def segment(audio: np.ndarray, caucus: str | None = "c1") -> FinishedSegment:
    return FinishedSegment("s1", ALICE, caucus, 3.0, 3.0 + audio.size / 16_000, "en",
                           float_to_int16(audio))


def xadd_fields(seg: FinishedSegment, stream: str) -> dict[Any, Any]:
    """``to_fields`` as redis-py's ``xadd`` stub takes it (its dict type is invariant)."""
    return cast("dict[Any, Any]", seg.to_fields(CIPHER, stream))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll a condition (never assert on time itself; the limit only stops a hang)."""
    for _ in range(int(WAIT_LIMIT / WAIT_STEP)):
        if await check():
            return
        await asyncio.sleep(WAIT_STEP)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_segment_survives_the_stream_encoding(jfk: np.ndarray) -> None:
    seg = segment(jfk[:16_000])
    fields = {k.encode(): v for k, v in seg.to_fields(CIPHER, "k").items()}
    back = FinishedSegment.from_fields(fields, CIPHER, "k")
    assert back.speaker == ALICE and back.caucus_id == "c1" and back.language == "en"
    np.testing.assert_array_equal(back.audio, seg.audio)


def test_the_case_vocabulary_travels_sealed_with_a_segment_and_shapes_its_text() -> None:
    """A worker elsewhere writes the case's words as the live captions do: the session's
    context goes with the audio (sealed), and the worker's text is corrected by it."""
    from dataclasses import replace

    from transcription.context import SpeechContext

    case = SpeechContext.from_case(names=["王建国"], dispute_type="劳动争议",
                                   summary="商场销售部员工与商场就上半年业绩考核发生争议。")
    seg = replace(segment(np.zeros(16_000, np.float32), None), language="zh", context=case)
    fields = {k.encode(): v for k, v in seg.to_fields(CIPHER, "k").items()}
    assert "商场".encode() not in b"".join(fields.values())  # sealed, not readable
    back = FinishedSegment.from_fields(fields, CIPHER, "k")
    assert back.context == case
    assert back.text("首先咱们上场上半年的夜级") == "首先咱们商场上半年的业绩。"
    # Without a context (an older producer, or none set) the text is only styled.
    plain = replace(back, context=None)
    assert plain.text("首先咱们上场上半年的夜级") == "首先咱们上场上半年的夜级。"


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
    entry = await enqueue(client, segment(jfk[:8000]), stream=stream, cipher=CIPHER)
    await asyncio.wait_for(run_worker(REDIS_URL, store, transcribe=fake, stream=stream,
                                      cipher=CIPHER,
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
    await enqueue(client, segment(jfk[:8000]), stream=stream, cipher=CIPHER)
    stop = asyncio.Event()
    stored: list[Utterance] = []

    def fake(seg: FinishedSegment, uid: str) -> Utterance:
        return Caption(uid, "s1", ALICE, None, 0, 1, "ok", True, "fake", 1.0, "en")

    async def store(u: Utterance) -> None:
        stored.append(u)
        stop.set()

    await asyncio.wait_for(run_worker(REDIS_URL, store, transcribe=fake, stream=stream,
                                      cipher=CIPHER,
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
    entry = await enqueue(client, segment(jfk), stream=stream, cipher=CIPHER)
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
            return bool((await client.xpending(stream, "workers"))["pending"] == 0)
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


async def test_queued_audio_is_sealed_at_rest_and_opens_only_with_the_key(
        redis_prefix: str, jfk: np.ndarray) -> None:
    client = aioredis.from_url(REDIS_URL)
    stream = f"{redis_prefix}:segments"
    seg = FinishedSegment("session-secret-id", Speaker("p-zhang", "张三", "party"), "caucus-7",
                          1.0, 2.0, "zh", float_to_int16(jfk[:16_000]))
    entry = await enqueue(client, seg, stream=stream, cipher=CIPHER)
    entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", await client.xrange(stream))
    [(_, fields)] = entries
    raw = b"".join(k + v for k, v in fields.items())
    # Nothing an operator with Redis (or its append-only file) reads: not the audio, not
    # who spoke, not the session or the caucus.
    for clear in (seg.audio.astype("<i2").tobytes()[1000:1064], "张三".encode(), b"p-zhang",
                  b"caucus-7", b"session-secret-id"):
        assert clear not in raw
    back = FinishedSegment.from_fields(fields, CIPHER, stream)
    assert back.caucus_id == "caucus-7" and back.speaker.name == "张三"
    np.testing.assert_array_equal(back.audio, seg.audio)
    with pytest.raises(UndecryptableEntry):
        FinishedSegment.from_fields(fields, QueueCipher.from_secret("another"), stream)
    with pytest.raises(UndecryptableEntry):  # bound to its stream
        FinishedSegment.from_fields(fields, CIPHER, f"{redis_prefix}:elsewhere")
    # A worker with the wrong key stores nothing and keeps the entry sealed, set aside.
    stored: list[Utterance] = []

    async def store(u: Utterance) -> None:
        stored.append(u)

    def never(seg: FinishedSegment, uid: str) -> Utterance:
        raise AssertionError("an undecryptable entry must not be transcribed")

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(
        REDIS_URL, store, transcribe=never, stream=stream, group="g", block_ms=100, stop=stop,
        cipher=QueueCipher.from_secret("another")))

    async def set_aside() -> bool:
        return bool(await client.xlen(f"{stream}:dead")) and not await client.xlen(stream)
    await eventually(set_aside, "the entry to move to the dead letters")
    stop.set()
    await asyncio.wait_for(worker, WAIT_LIMIT)
    assert stored == [] and entry
    await client.aclose()


async def test_audio_past_its_age_is_trimmed_and_never_transcribed(
        redis_prefix: str, jfk: np.ndarray) -> None:
    client = aioredis.from_url(REDIS_URL)
    stream = f"{redis_prefix}:segments"
    max_age = 600
    old_ms = int((time.time() - 2 * max_age) * 1000)
    await ensure_group(client, stream, "g")
    old = segment(jfk[:8000])
    await client.xadd(stream, xadd_fields(old, stream), id=f"{old_ms}-0")
    await client.xadd(f"{stream}:dead", xadd_fields(old, stream), id=f"{old_ms}-0")
    transcribed: list[str] = []

    def fake(seg: FinishedSegment, uid: str) -> Utterance:
        transcribed.append(uid)
        return Caption(uid, seg.session_id, seg.speaker, seg.caucus_id, seg.start, seg.end,
                       "hello", True, "fake", 1.0, seg.language)

    stop = asyncio.Event()

    async def store(u: Utterance) -> None:
        stop.set()

    fresh = await enqueue(client, segment(jfk[:8000]), stream=stream, cipher=CIPHER,
                          max_age_s=max_age)
    await asyncio.wait_for(run_worker(REDIS_URL, store, transcribe=fake, stream=stream,
                                      group="g", block_ms=100, stop=stop, cipher=CIPHER,
                                      max_age_s=max_age), WAIT_LIMIT)
    assert transcribed == [utterance_id_for(stream, fresh)]
    # The old entries are gone from both streams, and the fresh one left once done.
    assert await client.xlen(stream) == 0
    assert await client.xlen(f"{stream}:dead") == 0
    await client.aclose()


def test_data_purge_removes_queued_audio_past_its_age(
        redis_prefix: str, jfk: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from signaling.cli import main
    from transcription.captions import queue_stream

    stream = queue_stream(redis_prefix)
    old_ms = int((time.time() - 7200) * 1000)

    async def fill() -> None:
        client = aioredis.from_url(REDIS_URL)
        for i in range(3):
            await client.xadd(stream, xadd_fields(segment(jfk[:800]), stream),
                              id=f"{old_ms + i}-0")
        await client.xadd(f"{stream}:dead", xadd_fields(segment(jfk[:800]), stream),
                          id=f"{old_ms}-0")
        await enqueue(client, segment(jfk[:800]), stream=stream, cipher=CIPHER,
                      max_age_s=10 * 3600)  # a fresh one, which the purge keeps
        await client.aclose()

    async def lengths() -> tuple[int, int]:
        client = aioredis.from_url(REDIS_URL)
        out = (int(await client.xlen(stream)), int(await client.xlen(f"{stream}:dead")))
        await client.aclose()
        return out

    asyncio.run(fill())
    for k in [k for k in os.environ if k.startswith("TIAOJIE_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("TIAOJIE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIAOJIE_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("TIAOJIE_REDIS_PREFIX", redis_prefix)
    monkeypatch.setenv("TIAOJIE_TRANSCRIPTION_QUEUE_MAX_AGE_S", "3600")
    assert main(["data", "purge", "--dry-run"]) == 0
    assert "queued_audio_entries=4" in capsys.readouterr().out
    assert asyncio.run(lengths()) == (4, 1)
    assert main(["data", "purge"]) == 0
    assert "queued_audio_entries=4" in capsys.readouterr().out
    assert asyncio.run(lengths()) == (1, 0)
