"""The audio archive seam: each publisher's Opus packets, as the SFU forwards them, written
as Ogg Opus (RFC 7845) without decoding or re-encoding anything.

``ArchiveFeed`` is fed like the transcription tap: one call per audio packet, with the
stamp routing gave the audio when it arrived. A run of one participant's audio under one
stamp is a *segment*: one Ogg Opus logical stream (OpusHead, OpusTags, then one page per
``PAGE_PACKETS`` packets) handed to an ``ArchiveSink`` page by page, as ``ArchivePiece``
values. Nothing here stores, encrypts or authorises: that is the sink's business.

The helpers ``read_packets`` and ``cut`` turn stored Ogg bytes back into packets and
build a new, standalone Ogg Opus stream for an exact time span (pre-skip and end trimming
make it exact to the sample; a few packets before the span prime the decoder).
"""

from __future__ import annotations

import logging
import struct
import uuid
from dataclasses import dataclass
from typing import Protocol

from .tap import TapStamp

logger = logging.getLogger(__name__)

RATE = 48_000
"""Opus' RTP clock and Ogg Opus' granule rate."""
PAGE_PACKETS = 50
"""Packets per Ogg page (one second of 20 ms packets): the seek granularity of a stored
segment and the unit a sink receives."""
SILENCE = b"\xf8\xff\xfe"
"""A 20 ms CELT packet that decodes to silence: fills timestamp gaps (DTX, lost packets)
so that the packets' durations always add up to the granule position."""
MAX_GAP_S = 30.0
"""A longer gap in one publisher's timestamps starts a new segment instead of filling."""
PREROLL_S = 0.08
"""Audio decoded before a cut's start and discarded (pre-skip), for decoder convergence."""
VENDOR = b"tiaojie archive"


@dataclass(frozen=True)
class ArchivePiece:
    """Some Ogg pages of one segment, in order."""

    session_id: str
    participant_id: str
    segment_id: str
    """Unique per segment; the Ogg serial number is derived from it."""
    stamp: TapStamp
    """Who spoke, in which space (``stamp.caucus_id``), who could hear it."""
    start: float
    """Tap-clock seconds (the clock captions use) of the segment's first sample."""
    end: float
    """Tap-clock seconds of the last sample in this piece."""
    data: bytes
    """Whole Ogg pages; the first piece of a segment starts with OpusHead and OpusTags."""
    first: bool
    final: bool
    """The segment ends with this piece (stamp changed, paused, track ended)."""


class ArchiveSink(Protocol):
    """Takes archive pieces on the event loop thread; ``write`` must not block."""

    def write(self, piece: ArchivePiece) -> None: ...


# -- Ogg framing ----------------------------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, no final xor)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ b]
    return crc


def ogg_page(
    packets: list[bytes],
    *,
    granule: int,
    serial: int,
    seq: int,
    bos: bool = False,
    eos: bool = False,
) -> bytes:
    """One Ogg page holding whole ``packets`` (each under 255 * 255 bytes in all)."""
    lacing = bytearray()
    for p in packets:
        lacing.extend(b"\xff" * (len(p) // 255))
        lacing.append(len(p) % 255)
    if len(lacing) > 255:
        raise ValueError("too many packets for one Ogg page")
    flags = (0x02 if bos else 0) | (0x04 if eos else 0)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def opus_head(channels: int, pre_skip: int) -> bytes:
    return struct.pack("<8sBBHIhB", b"OpusHead", 1, channels, pre_skip, RATE, 0, 0)


def opus_tags() -> bytes:
    return b"OpusTags" + struct.pack("<I", len(VENDOR)) + VENDOR + struct.pack("<I", 0)


def header_pages(serial: int, channels: int, pre_skip: int = 0) -> bytes:
    return ogg_page(
        [opus_head(channels, pre_skip)], granule=0, serial=serial, seq=0, bos=True
    ) + ogg_page([opus_tags()], granule=0, serial=serial, seq=1)


def packet_samples(packet: bytes) -> int:
    """Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716, 3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:
        frame = (480, 960)[config % 2]
    else:
        frame = (120, 240, 480, 960)[config % 4]
    code = toc & 3
    if code == 0:
        count = 1
    elif code < 3:
        count = 2
    else:
        count = packet[1] & 0x3F if len(packet) > 1 else 0
    return frame * count


def channels_of(packet: bytes) -> int:
    return 2 if packet and packet[0] & 0x04 else 1


def read_packets(data: bytes) -> list[bytes]:
    """Every audio packet of an Ogg Opus stream written by this module, in order (the
    OpusHead and OpusTags packets left out). Raises ValueError on bad framing."""
    out: list[bytes] = []
    pos = 0
    partial = b""
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS" or len(data) < pos + 27:
            raise ValueError(f"no Ogg page at byte {pos}")
        nseg = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + nseg]
        body = pos + 27 + nseg
        for lace in lacing:
            partial += data[body : body + lace]
            body += lace
            if lace < 255:
                if not partial.startswith((b"OpusHead", b"OpusTags")):
                    out.append(partial)
                partial = b""
        pos = body
    return out


def cut(data: bytes, segment_start: float, t0: float, t1: float) -> bytes:
    """A standalone Ogg Opus stream of exactly [t0, t1) (tap-clock seconds) of a stored
    segment starting at ``segment_start``: whole packets are copied, the decoder is
    primed with up to ``PREROLL_S`` before ``t0``, and pre-skip and the last page's
    granule position trim the rest to the sample. Empty bytes if nothing overlaps."""
    packets = read_packets(data)
    starts: list[int] = []
    pos = 0
    for p in packets:
        starts.append(pos)
        pos += packet_samples(p)
    a = max(0, round((t0 - segment_start) * RATE))
    b = min(pos, round((t1 - segment_start) * RATE))
    if b <= a or not packets:
        return b""
    first = next(i for i, s in enumerate(starts) if s + packet_samples(packets[i]) > a)
    prime = first
    while prime > 0 and a - starts[prime - 1] <= PREROLL_S * RATE:
        prime -= 1
    last = max(i for i, s in enumerate(starts) if s < b)
    chosen = packets[prime : last + 1]
    pre_skip = a - starts[prime]
    total = pre_skip + (b - a)
    serial = 1
    out = [header_pages(serial, channels_of(chosen[0]), pre_skip)]
    seq, granule = 2, 0
    for i in range(0, len(chosen), PAGE_PACKETS):
        page = chosen[i : i + PAGE_PACKETS]
        granule += sum(packet_samples(p) for p in page)
        end = i + PAGE_PACKETS >= len(chosen)
        out.append(
            ogg_page(page, granule=total if end else granule, serial=serial, seq=seq, eos=end)
        )
        seq += 1
    return b"".join(out)


def duration(data: bytes) -> float:
    """Seconds of audio in an Ogg Opus stream: last granule minus pre-skip."""
    pos = data.rfind(b"OggS")
    if pos < 0:
        return 0.0
    granule = struct.unpack_from("<q", data, pos + 6)[0]
    head = data.find(b"OpusHead")
    pre_skip = struct.unpack_from("<H", data, head + 10)[0] if head >= 0 else 0
    return float(max(0, granule - pre_skip) / RATE)


# -- the feed ---------------------------------------------------------------------------


class _Segment:
    def __init__(self, stamp: TapStamp, start: float, channels: int) -> None:
        self.id = uuid.uuid4().hex
        self.serial = int(self.id[:8], 16)
        self.stamp = stamp
        self.start = start
        self.channels = channels
        self.granule = 0
        self.page_seq = 2
        self.pending: list[bytes] = []
        self.headers_sent = False
        self.last_seq: int | None = None
        self.next_ts = 0


class ArchiveFeed:
    """One audio Producer's packets, written as Ogg Opus segments to a sink.

    Runs on the event loop (framing only: a page per second is cheap). Duplicates and
    packets older than the last one written are dropped; a timestamp gap is filled with
    silent packets so that granule positions stay true to time; a stamp change, a pause
    or the end of the track closes the segment.
    """

    def __init__(
        self, *, sink: ArchiveSink, session_id: str, participant_id: str, clock_origin: float
    ) -> None:
        self._sink = sink
        self._session_id = session_id
        self._participant_id = participant_id
        self._origin = clock_origin
        self._seg: _Segment | None = None
        self._closed = False

    def feed(self, seq: int, ts: int, payload: bytes, arrival: float, stamp: TapStamp) -> None:
        if self._closed or not payload:
            return
        seg = self._seg
        if seg is not None and seg.stamp != stamp:
            self._finish()
            seg = None
        if seg is not None and seg.last_seq is not None:
            ahead = (seq - seg.last_seq) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:
                return  # duplicate or late: already past it
            gap = (ts - seg.next_ts) & 0xFFFFFFFF
            if gap >= 0x80000000:
                gap = 0  # overlapping timestamps: write contiguously
            if gap > MAX_GAP_S * RATE:
                self._finish()
                seg = None
            elif gap >= 480:
                for _ in range(round(gap / 960)):
                    self._append(seg, SILENCE)
        if seg is None:
            seg = self._seg = _Segment(stamp, arrival - self._origin, channels_of(payload))
        self._append(seg, payload)
        seg.last_seq = seq
        seg.next_ts = (ts + packet_samples(payload)) & 0xFFFFFFFF

    def _append(self, seg: _Segment, packet: bytes) -> None:
        seg.pending.append(packet)
        seg.granule += packet_samples(packet)
        if len(seg.pending) >= PAGE_PACKETS:
            self._flush(seg, final=False)

    def _flush(self, seg: _Segment, *, final: bool) -> None:
        parts = []
        first = not seg.headers_sent
        if first:
            parts.append(header_pages(seg.serial, seg.channels))
            seg.headers_sent = True
        if seg.pending:
            parts.append(
                ogg_page(seg.pending, granule=seg.granule, serial=seg.serial, seq=seg.page_seq)
            )
            seg.page_seq += 1
            seg.pending = []
        piece = ArchivePiece(
            session_id=self._session_id,
            participant_id=self._participant_id,
            segment_id=seg.id,
            stamp=seg.stamp,
            start=seg.start,
            end=seg.start + seg.granule / RATE,
            data=b"".join(parts),
            first=first,
            final=final,
        )
        try:
            self._sink.write(piece)
        except Exception:
            logger.exception("archive sink failed for %s", self._participant_id)

    def _finish(self) -> None:
        seg, self._seg = self._seg, None
        if seg is not None and seg.granule > 0:
            self._flush(seg, final=True)

    def pause(self) -> None:
        """The audio stopped being archived (mute, lobby, recording off): end the segment."""
        self._finish()

    def close(self) -> None:
        """The track ended."""
        if not self._closed:
            self._finish()
            self._closed = True
