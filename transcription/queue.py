"""Redis Streams hand-off of finished segments to ``tiaojie worker transcription`` processes.

The producer ``XADD``s each finished utterance's audio with its metadata. Workers read
through one consumer group; an entry is acknowledged only after ``store`` returned, so a
worker killed mid-utterance leaves it pending, and another worker takes it over with
``XAUTOCLAIM`` once it has been idle for ``claim_idle_ms``. The utterance id is derived
from the stream key and entry id, so a redelivered entry is stored under the same id and
``store`` (an upsert) stays idempotent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from media.tap import Speaker

from .asr import recognize
from .audio import int16_to_float
from .models import TranscriptionConfig, load
from .utterance import Caption, Utterance

log = logging.getLogger(__name__)

DEFAULT_STREAM = "tiaojie:transcription:segments"
DEFAULT_GROUP = "transcribers"
MAX_DELIVERIES = 5
"""An entry delivered this often without an ack is moved to ``<stream>:dead`` (poison)."""
ID_NAMESPACE = uuid.UUID("6f0c1d1e-5a43-4a55-9f1e-7c2b9a4d0e31")


@dataclass(frozen=True)
class FinishedSegment:
    """One utterance's audio awaiting transcription, as the live pipeline cut it."""

    session_id: str
    """The session it was spoken in."""
    speaker: Speaker
    """Whose track carried it."""
    caucus_id: str | None
    """The caucus it was spoken in; None for the joint session."""
    start: float
    """Seconds on the session's tap clock."""
    end: float
    """Seconds on the session's tap clock."""
    language: str
    """Language to transcribe in."""
    audio: npt.NDArray[np.int16] = field(repr=False)
    """16 kHz mono samples."""
    heard_by: frozenset[str] = frozenset()
    """Who could hear it when it was spoken: its caption reaches at most them."""

    def to_fields(self) -> dict[str, bytes]:
        """Stream entry fields: JSON metadata and raw little-endian int16 audio."""
        meta = {"session_id": self.session_id, "participant_id": self.speaker.participant_id,
                "name": self.speaker.name, "role": self.speaker.role,
                "caucus": self.caucus_id, "start": self.start, "end": self.end,
                "language": self.language, "heard_by": sorted(self.heard_by)}
        return {"meta": json.dumps(meta).encode(), "audio": self.audio.astype("<i2").tobytes()}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> FinishedSegment:
        """Inverse of ``to_fields``; raises ``ValueError``/``KeyError`` on a malformed entry."""
        meta = json.loads(fields[b"meta"])
        return cls(meta["session_id"],
                   Speaker(meta["participant_id"], meta["name"], meta["role"]),
                   meta.get("caucus"), float(meta["start"]), float(meta["end"]),
                   meta["language"], np.frombuffer(fields[b"audio"], dtype="<i2").astype(np.int16),
                   heard_by=frozenset(str(p) for p in meta.get("heard_by", ())))


def utterance_id_for(stream: str, entry_id: str) -> str:
    """The same entry always yields the same utterance id, whichever worker handles it."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{stream}/{entry_id}"))


async def enqueue(client: aioredis.Redis, segment: FinishedSegment,
                  stream: str = DEFAULT_STREAM, maxlen: int = 100_000) -> str:
    """Add a segment to the stream; returns its entry id."""
    entry = await client.xadd(stream, segment.to_fields(),  # type: ignore[arg-type]
                              maxlen=maxlen, approximate=True)
    return entry.decode() if isinstance(entry, bytes) else str(entry)


async def ensure_group(client: aioredis.Redis, stream: str, group: str) -> None:
    """Create the consumer group (and stream) if missing."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


Transcribe = Callable[[FinishedSegment, str], Utterance]


def model_transcriber(config: TranscriptionConfig) -> Transcribe:
    """Transcribe a segment with the resolved packaged or local model (blocking)."""
    def run(segment: FinishedSegment, utterance_id: str) -> Utterance:
        spec, model = load(config, segment.language)
        rec = recognize(model, int16_to_float(segment.audio), segment.language,
                        beam_size=config.beam_size)
        return Caption(utterance_id, segment.session_id, segment.speaker, segment.caucus_id,
                       segment.start, segment.end, rec.text, True, spec.name, rec.confidence,
                       segment.language, heard_by=segment.heard_by)
    return run


async def run_worker(redis_url: str, store: Callable[[Utterance], Awaitable[None]], *,
                     config: TranscriptionConfig | None = None,
                     transcribe: Transcribe | None = None, stream: str = DEFAULT_STREAM,
                     group: str = DEFAULT_GROUP, consumer: str | None = None,
                     claim_idle_ms: int = 30_000, block_ms: int = 1_000,
                     stop: asyncio.Event | None = None) -> None:
    """Serve the consumer group until ``stop`` is set (or the task is cancelled)."""
    run = transcribe or model_transcriber(config or TranscriptionConfig())
    name = consumer or f"{socket.gethostname()}-{os.getpid()}"
    client = aioredis.from_url(redis_url)
    try:
        await ensure_group(client, stream, group)
        claim_cursor = "0-0"
        while stop is None or not stop.is_set():
            # Take over entries a dead consumer left pending before reading new ones.
            claim_cursor, claimed = await _autoclaim(client, stream, group, name,
                                                     claim_idle_ms, claim_cursor)
            entries: list[Any] = claimed
            if not entries:
                reply: Any = await client.xreadgroup(group, name, {stream: ">"}, count=1,
                                                     block=block_ms)
                entries = [e for _s, batch in reply or [] for e in batch]
            for entry_id, fields in entries:
                await _handle(client, stream, group, entry_id, fields, run, store)
    finally:
        await client.aclose()


async def _autoclaim(client: aioredis.Redis, stream: str, group: str, name: str,
                     idle_ms: int, cursor: str) -> tuple[str, list[Any]]:
    reply = await client.xautoclaim(stream, group, name, min_idle_time=idle_ms,
                                    start_id=cursor, count=1)
    next_cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
    # Entries trimmed from the stream come back as None; there is nothing left to do.
    return next_cursor, [e for e in reply[1] if e and e[1]]


async def _handle(client: aioredis.Redis, stream: str, group: str, raw_id: bytes | str,
                  fields: dict[bytes, bytes], run: Transcribe,
                  store: Callable[[Utterance], Awaitable[None]]) -> None:
    entry_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
    try:
        segment = FinishedSegment.from_fields(fields)
    except (KeyError, ValueError, TypeError):
        log.warning("dropped malformed transcription entry %s", entry_id)
        await client.xack(stream, group, entry_id)
        return
    if await _deliveries(client, stream, group, entry_id) > MAX_DELIVERIES:
        log.error("entry %s failed %d times; moved to %s:dead", entry_id, MAX_DELIVERIES, stream)
        await client.xadd(f"{stream}:dead", fields)  # type: ignore[arg-type]
        await client.xack(stream, group, entry_id)
        return
    utterance = await asyncio.to_thread(run, segment, utterance_id_for(stream, entry_id))
    if utterance.text:
        await store(utterance)
    await client.xack(stream, group, entry_id)  # only now: a crash above redelivers it


async def _deliveries(client: aioredis.Redis, stream: str, group: str, entry_id: str) -> int:
    info = await client.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return int(info[0]["times_delivered"]) if info else 0
