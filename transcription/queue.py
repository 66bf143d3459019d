"""Redis Streams hand-off of finished segments to ``tiaojie worker transcription`` processes.

The producer ``XADD``s each finished utterance's audio with its metadata. Workers read
through one consumer group; an entry is acknowledged only after ``store`` returned, so a
worker killed mid-utterance leaves it pending, and another worker takes it over with
``XAUTOCLAIM`` once it has been idle for ``claim_idle_ms``. The utterance id is derived
from the stream key and entry id, so a redelivered entry is stored under the same id and
``store`` (an upsert) stays idempotent.

At rest in Redis (and its append-only file) an entry is one AES-256-GCM blob under a key
derived from the service secret (``QueueCipher``): the audio, who spoke, in which session
and caucus. Redis holds only the entry id (a millisecond time) and ciphertext. Entries live
at most ``max_age_s``: every ``XADD`` trims older ones (``MINID``), workers skip and trim
them, and ``tiaojie data purge`` removes them; audio that old is no use to live captions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import redis.asyncio as aioredis
from cryptography.exceptions import InvalidTag
from redis.exceptions import ResponseError

from media.tap import Speaker
from signaling.crypto import derive_key, seal, unseal

from .asr import recognize
from .audio import int16_to_float
from .biasing import Biaser
from .context import SpeechContext
from .itn import record_style
from .models import TranscriptionConfig, load
from .utterance import Caption, Utterance

log = logging.getLogger(__name__)

DEFAULT_STREAM = "tiaojie:transcription:segments"
DEFAULT_GROUP = "transcribers"
MAX_DELIVERIES = 5
"""An entry delivered this often without an ack is moved to ``<stream>:dead`` (poison)."""
ID_NAMESPACE = uuid.UUID("6f0c1d1e-5a43-4a55-9f1e-7c2b9a4d0e31")
DEFAULT_MAX_AGE_S = 3600
TRIM_EVERY_S = 10.0
"""How often a worker trims entries past their age (also when nothing new arrives)."""


@dataclass(frozen=True)
class QueueCipher:
    """The key that seals queued segments at rest, derived from the service secret."""

    key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> QueueCipher:
        return cls(derive_key(secret, "transcription-queue"))

    def seal(self, stream: str, plain: bytes) -> bytes:
        # Bound to the stream: an entry copied into another deployment's queue fails.
        return seal(self.key, plain, f"queue:{stream}".encode())

    def open(self, stream: str, blob: bytes) -> bytes:
        """Raises ``InvalidTag`` for another key, another stream or altered bytes."""
        return unseal(self.key, blob, f"queue:{stream}".encode())


class UndecryptableEntry(ValueError):
    """An entry sealed under another key (a worker with another TIAOJIE_SECRET_KEY)."""


def min_id(max_age_s: float, now: float | None = None) -> str:
    """The stream id before which entries are older than ``max_age_s`` (ids are ms)."""
    ms = int(((time.time() if now is None else now) - max_age_s) * 1000)
    return f"{max(ms, 0)}-0"


def entry_time(entry_id: str) -> float:
    """Seconds since the epoch at which Redis added the entry (from its id)."""
    return int(entry_id.split("-", 1)[0]) / 1000.0


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
    voice: str | None = None
    """On a shared device: the voice the live pipeline assigned (an enrolled name or "1",
    "2"); ``speaker.name`` is then already the name captions show."""
    context: SpeechContext | None = None
    """The session's vocabulary when it was spoken (names, places, the summary's clauses,
    the dispute type's terms), so that a worker writes case words as the live pipeline
    does. Sealed with the audio like everything else in the entry."""

    def text(self, raw: str) -> str:
        """What a worker recognized, as the room and the record read it: case words put
        back by sound (Mandarin), then punctuation, amounts and dates."""
        if self.context is not None and not self.context.empty and self.language == "zh":
            raw = Biaser.for_context(self.context).correct(raw)
        return record_style(raw, self.language)

    def to_fields(self, cipher: QueueCipher, stream: str) -> dict[str, bytes]:
        """The stream entry: one sealed blob of the JSON metadata (length-prefixed) and
        the raw little-endian int16 audio. Nothing readable is left beside it."""
        meta = json.dumps({
            "session_id": self.session_id, "participant_id": self.speaker.participant_id,
            "name": self.speaker.name, "role": self.speaker.role, "caucus": self.caucus_id,
            "start": self.start, "end": self.end, "language": self.language,
            "heard_by": sorted(self.heard_by), "voice": self.voice,
            "context": None if self.context is None else {
                "names": self.context.names, "places": self.context.places,
                "summary": self.context.summary, "terms": self.context.terms}}).encode()
        plain = len(meta).to_bytes(4, "big") + meta + self.audio.astype("<i2").tobytes()
        return {"v": b"1", "sealed": cipher.seal(stream, plain)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes], cipher: QueueCipher,
                    stream: str) -> FinishedSegment:
        """Inverse of ``to_fields``; raises ``UndecryptableEntry`` for another key and
        ``ValueError``/``KeyError`` on a malformed entry."""
        try:
            plain = cipher.open(stream, fields[b"sealed"])
        except InvalidTag:
            raise UndecryptableEntry("sealed under another key") from None
        n = int.from_bytes(plain[:4], "big")
        meta = json.loads(plain[4:4 + n])
        audio = np.frombuffer(plain[4 + n:], dtype="<i2").astype(np.int16)
        ctx = meta.get("context")
        context = None if not isinstance(ctx, dict) else SpeechContext(
            *(tuple(str(w) for w in ctx.get(k, ())) for k in ("names", "places", "summary",
                                                             "terms")))
        return cls(meta["session_id"],
                   Speaker(meta["participant_id"], meta["name"], meta["role"]),
                   meta.get("caucus"), float(meta["start"]), float(meta["end"]),
                   meta["language"], audio,
                   heard_by=frozenset(str(p) for p in meta.get("heard_by", ())),
                   voice=meta.get("voice"), context=context)


def utterance_id_for(stream: str, entry_id: str) -> str:
    """The same entry always yields the same utterance id, whichever worker handles it."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{stream}/{entry_id}"))


async def enqueue(client: aioredis.Redis, segment: FinishedSegment, *, cipher: QueueCipher,
                  stream: str = DEFAULT_STREAM, max_age_s: float = DEFAULT_MAX_AGE_S) -> str:
    """Add a sealed segment to the stream, trimming entries past ``max_age_s``; returns
    its entry id."""
    entry = await client.xadd(stream, segment.to_fields(cipher, stream),  # type: ignore[arg-type]
                              minid=min_id(max_age_s), approximate=True)
    return entry.decode() if isinstance(entry, bytes) else str(entry)


async def trim(client: aioredis.Redis, stream: str, max_age_s: float) -> int:
    """Remove the stream's and its dead letters' entries older than ``max_age_s``
    (pending ones too: a claim of a trimmed entry yields nothing). Returns how many."""
    removed = 0
    for key in (stream, f"{stream}:dead"):
        removed += int(await client.xtrim(key, minid=min_id(max_age_s), approximate=False))
    return removed


async def count_older(client: aioredis.Redis, stream: str, max_age_s: float) -> int:
    """How many entries ``trim`` would remove (for a dry run)."""
    boundary = int(min_id(max_age_s).split("-", 1)[0]) - 1
    n = 0
    for key in (stream, f"{stream}:dead"):
        start = "-"
        while boundary >= 0:
            batch = await client.xrange(key, min=start, max=str(boundary), count=1000)
            if not batch:
                break
            n += len(batch)
            last = batch[-1][0]
            last = last.decode() if isinstance(last, bytes) else str(last)
            start = "(" + last
    return n


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
                       segment.start, segment.end, segment.text(rec.text),
                       True, spec.name, rec.confidence,
                       segment.language, voice=segment.voice, heard_by=segment.heard_by)
    return run


async def run_worker(redis_url: str, store: Callable[[Utterance], Awaitable[None]], *,
                     cipher: QueueCipher, max_age_s: float = DEFAULT_MAX_AGE_S,
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
        trimmed_at = 0.0
        while stop is None or not stop.is_set():
            if time.monotonic() - trimmed_at >= TRIM_EVERY_S:
                trimmed_at = time.monotonic()
                if await trim(client, stream, max_age_s):
                    log.info("trimmed queued audio older than %d s", max_age_s)
            # Take over entries a dead consumer left pending before reading new ones.
            claim_cursor, claimed = await _autoclaim(client, stream, group, name,
                                                     claim_idle_ms, claim_cursor)
            entries: list[Any] = claimed
            if not entries:
                reply: Any = await client.xreadgroup(group, name, {stream: ">"}, count=1,
                                                     block=block_ms)
                entries = [e for _s, batch in reply or [] for e in batch]
            for entry_id, fields in entries:
                await _handle(client, stream, group, entry_id, fields, run, store, cipher,
                              max_age_s)
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
                  store: Callable[[Utterance], Awaitable[None]], cipher: QueueCipher,
                  max_age_s: float) -> None:
    entry_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
    if time.time() - entry_time(entry_id) > max_age_s:
        # Left behind by a long outage: too old for a live caption, and kept no longer.
        log.warning("dropped queued audio %s: older than %d s", entry_id, max_age_s)
        await client.xack(stream, group, entry_id)
        await client.xdel(stream, entry_id)
        return
    try:
        segment = FinishedSegment.from_fields(fields, cipher, stream)
    except UndecryptableEntry:
        # Kept (sealed) for the operator, within its age: most likely this worker's
        # TIAOJIE_SECRET_KEY differs from the signaling nodes'.
        log.error("entry %s is sealed under another key (is TIAOJIE_SECRET_KEY the same on "
                  "every node?); moved to %s:dead", entry_id, stream)
        await client.xadd(f"{stream}:dead", fields,  # type: ignore[arg-type]
                          minid=min_id(max_age_s), approximate=True)
        await client.xack(stream, group, entry_id)
        await client.xdel(stream, entry_id)
        return
    except (KeyError, ValueError, TypeError):
        log.warning("dropped malformed transcription entry %s", entry_id)
        await client.xack(stream, group, entry_id)
        await client.xdel(stream, entry_id)
        return
    if await _deliveries(client, stream, group, entry_id) > MAX_DELIVERIES:
        log.error("entry %s failed %d times; moved to %s:dead", entry_id, MAX_DELIVERIES, stream)
        await client.xadd(f"{stream}:dead", fields,  # type: ignore[arg-type]
                          minid=min_id(max_age_s), approximate=True)
        await client.xack(stream, group, entry_id)
        await client.xdel(stream, entry_id)
        return
    utterance = await asyncio.to_thread(run, segment, utterance_id_for(stream, entry_id))
    if utterance.text:
        await store(utterance)
    await client.xack(stream, group, entry_id)  # only now: a crash above redelivers it
    # Done with: the audio leaves Redis now, not when the stream is next trimmed.
    await client.xdel(stream, entry_id)


async def _deliveries(client: aioredis.Redis, stream: str, group: str, entry_id: str) -> int:
    info = await client.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return int(info[0]["times_delivered"]) if info else 0
