"""The audio archive: what the join page promises ("调解过程将被录音"), kept encrypted.

The SFU hands Ogg Opus pages of each consenting speaker's audio (``media.archive``); here
they are sealed in chunks (AES-GCM, a key derived from the service secret for "audio",
named by a key id so that the secret can rotate) and appended to one file per segment
under ``data_dir/audio/<session>/``, with a row per segment saying whose audio it is,
in which space it was heard (a caucus, or the joint session) and when, on the tap clock
captions use. Caucus audio is readable by the mediator only; joint audio by the office's
mediators and clerks. A clerk hears one transcript line through
``GET /api/v1/utterances/{id}/audio`` (Range requests), cut to exactly that line
(``line_audio``; the route is the transcription feature's).

File format, per chunk: ``b"TJA1"``, key id length (1 byte) and key id (ASCII), chunk
start and end (two little-endian doubles), sealed length (4 bytes), then nonce and
ciphertext. The associated data binds segment id, chunk index and times, so a chunk can
be neither moved to another segment nor reordered.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import StrictBool
from sqlalchemy import Float, ForeignKey, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from media.archive import ArchivePiece, cut, read_packets
from signaling.crypto import derive_key, seal, unseal
from signaling.db.base import Base, UTCDateTime, utcnow
from signaling.errors import Conflict, NotFound, TiaojieError
from signaling.keys import SERVICES
from signaling.schemas import In
from signaling.settings import Settings

log = logging.getLogger("tiaojie.audio")

MAGIC = b"TJA1"
CHUNK_S = 10.0
"""Audio sealed per chunk: at most this much is lost if the process dies."""


class AudioSegment(Base):
    """One run of one participant's archived audio under one space."""

    __tablename__ = "audio_segments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32), index=True)
    caucus_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The space the speaker was in when the audio was heard; None: the joint session."""
    start: Mapped[float] = mapped_column(Float)
    """Tap-clock seconds of its first sample (the clock of utterances' start/end)."""
    end: Mapped[float] = mapped_column(Float)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    """Sealed chunks written: a reader reads exactly these."""
    size: Mapped[int] = mapped_column(Integer, default=0)
    """Bytes on disk."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- keys -----------------------------------------------------------------------------


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"tiaojie-audio-key-id" + key).hexdigest()[:16]


def keyring(settings: Settings) -> tuple[str, dict[str, bytes]]:
    """The key id new chunks are sealed with, and every key a chunk may name."""
    keys: dict[str, bytes] = {}
    for secret in [settings.secret_key, *settings.previous_secret_keys]:
        k = derive_key(secret, "audio")
        keys.setdefault(key_id(k), k)
    current = key_id(derive_key(settings.secret_key, "audio"))
    return current, keys


def audio_dir(settings: Settings, session_id: str) -> Path:
    return settings.data_dir / "audio" / session_id


def segment_path(settings: Settings, seg: AudioSegment) -> Path:
    return audio_dir(settings, seg.session_id) / f"{seg.id}.tja"


def _aad(segment_id: str, index: int, t0: float, t1: float) -> bytes:
    return f"audio:{segment_id}:{index}:".encode() + struct.pack("<dd", t0, t1)


def seal_chunk(
    settings: Settings, segment_id: str, index: int, t0: float, t1: float, data: bytes
) -> bytes:
    kid, keys = keyring(settings)
    blob = seal(keys[kid], data, _aad(segment_id, index, t0, t1))
    k = kid.encode()
    return MAGIC + bytes([len(k)]) + k + struct.pack("<ddI", t0, t1, len(blob)) + blob


@dataclass
class Chunk:
    index: int
    start: float
    end: float
    kid: str
    blob: bytes


def chunks(settings: Settings, seg: AudioSegment) -> list[Chunk]:
    """The segment's sealed chunks (the first ``seg.chunks``), still sealed."""
    raw = segment_path(settings, seg).read_bytes()
    out: list[Chunk] = []
    pos = 0
    while pos < len(raw) and len(out) < seg.chunks:
        if raw[pos : pos + 4] != MAGIC:
            raise ValueError(f"audio segment {seg.id}: bad chunk at byte {pos}")
        n = raw[pos + 4]
        kid = raw[pos + 5 : pos + 5 + n].decode()
        t0, t1, size = struct.unpack_from("<ddI", raw, pos + 5 + n)
        body = pos + 5 + n + 20
        out.append(Chunk(len(out), t0, t1, kid, raw[body : body + size]))
        pos = body + size
    return out


def decrypt(
    settings: Settings, seg: AudioSegment, t0: float | None = None, t1: float | None = None
) -> bytes:
    """The segment's Ogg bytes (only the chunks overlapping [t0, t1] when given, plus the
    first, which holds the stream headers)."""
    _, keys = keyring(settings)
    parts = []
    for c in chunks(settings, seg):
        if c.index and t0 is not None and t1 is not None and (c.end < t0 or c.start > t1):
            continue
        key = keys.get(c.kid)
        if key is None:
            raise TiaojieError(
                "This audio was sealed with a key that is no longer configured.",
                code="audio_key_unknown",
                status=500,
            )
        parts.append(unseal(key, c.blob, _aad(seg.id, c.index, c.start, c.end)))
    return b"".join(parts)


# -- the sink the SFU writes to ------------------------------------------------------------


@dataclass
class _Open:
    session_id: str
    row_written: bool = False
    pending: list[bytes] = field(default_factory=list)
    pending_start: float | None = None
    end: float = 0.0
    index: int = 0


class AudioArchive:
    """``media.archive.ArchiveSink``: pieces arrive on the loop, a writer task seals and
    stores them in order. A segment's row is written with its first piece, so that the
    recording switch knows at once that audio exists."""

    def __init__(self, settings: Settings, db: Any) -> None:
        self._settings = settings
        self._db = db
        self._queue: asyncio.Queue[ArchivePiece | None] = asyncio.Queue()
        self._open: dict[str, _Open] = {}
        self._task: asyncio.Task[None] | None = None
        self.bytes_written = 0

    def write(self, piece: ArchivePiece) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        self._queue.put_nowait(piece)

    async def drain(self) -> None:
        """Wait until everything written so far is stored (tests, shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        """At shutdown, after the SFU closed: store what was received, seal every open
        segment's pending pages (the audio of the last second still in flight is lost)."""
        await self.drain()
        for segment_id, st in list(self._open.items()):
            if st.pending and st.row_written:
                try:
                    await self._seal(segment_id, st, st.session_id)
                except Exception:
                    log.exception(
                        "audio archive: could not seal segment %s at shutdown", segment_id
                    )
        self._open.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            piece = await self._queue.get()
            try:
                if piece is not None:
                    await self._store(piece)
            except Exception:
                log.exception("audio archive: could not store a piece of a segment")
            finally:
                self._queue.task_done()

    async def _store(self, piece: ArchivePiece) -> None:
        st = self._open.setdefault(piece.segment_id, _Open(piece.session_id))
        if st.pending_start is None:
            st.pending_start = st.end if st.index else piece.start
        st.pending.append(piece.data)
        st.end = piece.end
        if not st.row_written:
            async with self._db.session() as db:
                db.add(
                    AudioSegment(
                        id=piece.segment_id,
                        session_id=piece.session_id,
                        participant_id=piece.participant_id,
                        caucus_id=piece.stamp.caucus_id,
                        start=piece.start,
                        end=piece.start,
                        chunks=0,
                        size=0,
                    )
                )
                await db.commit()
            st.row_written = True
        if piece.final or piece.end - st.pending_start >= CHUNK_S:
            await self._seal(piece.segment_id, st, piece.session_id)
        if piece.final:
            self._open.pop(piece.segment_id, None)

    async def _seal(self, segment_id: str, st: _Open, session_id: str) -> None:
        assert st.pending_start is not None
        record = seal_chunk(
            self._settings, segment_id, st.index, st.pending_start, st.end, b"".join(st.pending)
        )
        d = audio_dir(self._settings, session_id)
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"{segment_id}.tja", "ab") as fh:
            fh.write(record)
        self.bytes_written += len(record)
        st.index += 1
        st.pending, st.pending_start = [], None
        async with self._db.session() as db:
            seg = await db.get(AudioSegment, segment_id)
            if seg is not None:
                seg.chunks, seg.end = st.index, st.end
                seg.size = (seg.size or 0) + len(record)
                await db.commit()


# -- who may hear what ---------------------------------------------------------------------


def may_hear(role: str, seg: AudioSegment) -> bool:
    """Caucus audio: the mediator only. Joint audio: mediators and clerks."""
    if role == "mediator":
        return True
    return role == "clerk" and seg.caucus_id is None


async def segment_for(
    db: AsyncSession,
    session_id: str,
    participant_id: str,
    caucus_id: str | None,
    start: float,
    end: float,
) -> AudioSegment | None:
    """The stored segment holding most of [start, end] of one speaker in one space."""
    rows = list(
        (
            await db.execute(
                select(AudioSegment).where(
                    AudioSegment.session_id == session_id,
                    AudioSegment.participant_id == participant_id,
                    AudioSegment.start < end,
                    AudioSegment.end > start,
                )
            )
        ).scalars()
    )
    rows = [r for r in rows if r.caucus_id == caucus_id and r.chunks > 0]
    if not rows:
        return None
    return max(rows, key=lambda r: (min(r.end, end) - max(r.start, start), r.created_at))


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single ``bytes=`` range; None when the header is absent.
    Raises a 416 error for a range that cannot be served."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        raise _unsatisfiable(size)
    a, _, b = spec.strip().partition("-")
    try:
        if a == "":
            n = int(b)
            if n <= 0:
                raise _unsatisfiable(size)
            return max(0, size - n), size - 1
        first = int(a)
        last = int(b) if b else size - 1
    except ValueError:
        raise _unsatisfiable(size) from None
    if first >= size or last < first:
        raise _unsatisfiable(size)
    return first, min(last, size - 1)


def _unsatisfiable(size: int) -> TiaojieError:
    return TiaojieError(
        f"That byte range is not in this audio ({size} bytes).",
        code="range_not_satisfiable",
        status=416,
    )


async def line_audio(request: web.Request, *, session_id: str, participant_id: str,
                     caucus_id: str | None, start: float, end: float,
                     role: str) -> web.StreamResponse:
    """One transcript line's audio, exactly its span, as Ogg Opus (Range requests).

    The line and the caller's access to it are the transcription feature's
    (``transcription/http.py``, ``GET /api/v1/utterances/{utterance_id}/audio``); what
    was recorded, and whether ``role`` may hear that space, is the archive's."""
    services = request.app[SERVICES]
    async with services.db.session() as db:
        seg = await segment_for(db, session_id, participant_id, caucus_id, start, end)
    if seg is None or not may_hear(role, seg):
        raise NotFound("No audio was recorded for this line.", code="audio_not_found")
    settings = services.settings
    ogg = await asyncio.to_thread(_cut_segment, settings, seg, start, end)
    if not ogg:
        raise NotFound("No audio was recorded for this line.", code="audio_not_found")
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    rng = byte_range(request.headers.get("Range", ""), len(ogg))
    if rng is None:
        return web.Response(body=ogg, content_type="audio/ogg", headers=headers)
    a, b = rng
    headers["Content-Range"] = f"bytes {a}-{b}/{len(ogg)}"
    return web.Response(body=ogg[a : b + 1], status=206, content_type="audio/ogg", headers=headers)


def _cut_segment(settings: Settings, seg: AudioSegment, t0: float, t1: float) -> bytes:
    return cut(decrypt(settings, seg), seg.start, t0, t1)


# -- the recording switch -----------------------------------------------------------------


class RecordingIn(In):
    on: StrictBool


async def audio_exists(db: AsyncSession, session_id: str) -> bool:
    n = (
        await db.execute(
            select(func.count())
            .select_from(AudioSegment)
            .where(AudioSegment.session_id == session_id)
        )
    ).scalar_one()
    return bool(n)


async def set_recording(
    services: Any, seat: dict[str, Any], payload: RecordingIn
) -> dict[str, Any]:
    """The mediator turns the session's recording on, or off before anyone was recorded."""
    from signaling.db.models import MediationSession
    from signaling.grants import ensure_admin

    session_id, actor = seat["session_id"], seat["participant_id"]
    room = await services.rooms.get(session_id)
    if room is None:
        raise NotFound("No such session.", code="session_not_found")
    ensure_admin(room.member(actor).grants)
    if payload.on and not services.settings.audio_archive:
        raise Conflict(
            "Audio recording is switched off on this server.", code="recording_unavailable"
        )
    async with services.db.session() as db:
        if not payload.on and await audio_exists(db, session_id):
            raise Conflict(
                "Audio has already been recorded in this session; recording "
                "cannot be turned off now.",
                code="recording_started",
            )
        session = await db.get(MediationSession, session_id)
        assert session is not None
        session.recording = payload.on
        await db.commit()
    async with services.rooms.edit(session_id) as room:
        room.recording = payload.on
        room.layout_version += 1  # so that no stale view brings the old switch back
    hub = services.hub
    if payload.on:
        await hub.log_event(session_id, "recording.started", actor_id=actor)
    else:
        await hub.log_event(session_id, "recording.stopped", actor_id=actor)
    await hub._after_change(room)
    return {"recording": payload.on}


# -- retention and export ----------------------------------------------------------------------


async def purge_session(
    db: AsyncSession, settings: Settings, session_id: str, *, dry_run: bool
) -> int:
    """Delete a session's archived audio: files and rows. Returns segments removed."""
    segs = list(
        (
            await db.execute(select(AudioSegment).where(AudioSegment.session_id == session_id))
        ).scalars()
    )
    if not dry_run:
        for seg in segs:
            segment_path(settings, seg).unlink(missing_ok=True)
            await db.delete(seg)
        d = audio_dir(settings, session_id)
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    return len(segs)


async def export_own(
    db: AsyncSession, settings: Settings, participant_id: str
) -> list[dict[str, Any]]:
    """A participant's own audio, every segment as a whole Ogg Opus file (base64)."""
    segs = list(
        (
            await db.execute(
                select(AudioSegment)
                .where(AudioSegment.participant_id == participant_id)
                .order_by(AudioSegment.start)
            )
        ).scalars()
    )
    out = []
    for seg in segs:
        if not seg.chunks:
            continue
        ogg = decrypt(settings, seg)
        whole = cut(ogg, seg.start, seg.start, seg.start + 1e9)
        out.append(
            {
                "segment_id": seg.id,
                "caucus_id": seg.caucus_id,
                "start": seg.start,
                "end": seg.end,
                "packets": len(read_packets(ogg)),
                "content_type": "audio/ogg",
                "ogg_base64": base64.b64encode(whole).decode(),
            }
        )
    return out


def add_routes(api: Any) -> None:
    """The recording switch. A line's audio route is the transcription feature's
    (``transcription/http.py``), which calls ``line_audio``."""
    from signaling.sockets.namespace import register_event

    register_event("recording", RecordingIn, set_recording)
