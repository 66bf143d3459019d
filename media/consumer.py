"""A Consumer: one subscriber's copy of one publisher source, forwarded packet by packet."""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from typing import TYPE_CHECKING, Protocol

from aiortc import MediaStreamTrack, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError

from . import aiortc_seams
from .rtp import (
    AUDIO_LEVEL_URI,
    HISTORY_SIZE,
    MID_URI,
    SEQ,
    extension_block,
    header,
    seq_newer,
    with_audio_level,
)

if TYPE_CHECKING:
    from .producer import Producer

logger = logging.getLogger(__name__)

ConsumerKey = tuple[str, str, str]
"""(subscriber_id, publisher_id, source)."""

REPORT_EVERY_S = 0.25
"""How often the sender's RTCP report counters are brought up to date (it reports every
0.5-1.5 s)."""
LATENCY_SAMPLE = 16
"""One packet in this many has its hand-over latency recorded."""
_HISTORY_MASK = HISTORY_SIZE - 1


class Outlet(Protocol):
    """Where a consumer's packets leave (``aiortc_seams.RtpOutlet``; a recorder in tests)."""

    ssrc: int
    rtx_ssrc: int
    payload_type: int
    rtx_payload_type: int | None
    extension_ids: dict[str, int]
    mid: str | None

    def send(self, data: bytes) -> bool: ...

    def report(self, packets: int, octets: int, rtp_timestamp: int) -> None: ...


class ForwardTrack(MediaStreamTrack):
    """The track a subscriber's RTCRtpSender holds: it never yields anything.

    Packets bypass it (``RtpOutlet``), so the sender's own loop just waits here and never
    creates an encoder. It ends when its Consumer closes; stopping it under a waiting
    sender would hang that sender, so ending is the only way out.
    """

    def __init__(self, kind: str, track_id: str) -> None:
        super().__init__()
        self.kind = kind
        self._track_id = track_id
        self._over = False
        self._ended: asyncio.Future[None] | None = None

    @property
    def id(self) -> str:
        return self._track_id

    async def recv(self) -> None:  # type: ignore[override]
        if not self._over:
            if self._ended is None:
                self._ended = asyncio.get_running_loop().create_future()
            await self._ended
        raise MediaStreamError

    def end(self) -> None:
        self._over = True
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)


class Consumer:
    """One subscriber receiving one publisher source, with its own sequence and time line.

    ``paused`` is the router's (routing says no: caucus, mute), ``producer`` None means
    producer-paused (the publisher is not sending that source right now, e.g. while it
    reconnects). It forwards only when both allow, and only once its sender runs (ready).
    Each packet keeps the publisher's payload and gets this subscriber's SSRC, payload
    type, sequence number and timestamp: a run of packets (from a resume, or from a new
    producer after the publisher reconnected) continues the numbering where the last run
    stopped, so the subscriber sees neither a jump nor a rewind (LiveKit's
    ``resyncLocked``, mediasoup's ``SeqManager``). Video starts a run on a keyframe.
    Video keeps the last ``HISTORY_SIZE`` packets to answer the subscriber's NACKs.
    """

    def __init__(self, subscriber_id: str, publisher_id: str, source: str, kind: str) -> None:
        self.subscriber_id = subscriber_id
        """Participant who receives."""
        self.publisher_id = publisher_id
        """Participant whose source is forwarded."""
        self.source = source
        """"audio", "video" or "screen"."""
        self.kind = kind
        """"audio" or "video"."""
        self.track = ForwardTrack(kind, f"{publisher_id}:{source}")
        """What the subscriber's sender holds."""
        self.transceiver: RTCRtpTransceiver | None = None
        """Set when the transport adds it to the peer connection."""
        self.producer: Producer | None = None
        """The producer it forwards from; None while producer-paused."""
        self.paused = True
        """Routing (caucus, mediator mute) forbids forwarding now."""
        self.ready = False
        """The subscriber answered the offer that carries it: its sender runs."""
        self.closed = False
        self.packets_offered = 0
        """Packets the producer handed over while this consumer was active."""
        self.packets_sent = 0
        """Packets sent to the subscriber (retransmissions not included)."""
        self.packets_dropped = 0
        """Packets offered but not sent: connection down, or older than the current run."""
        self.packets_retransmitted = 0
        """Packets sent again because the subscriber NACKed them."""
        self.bytes_sent = 0
        """Payload bytes sent to the subscriber."""
        self.latencies: collections.deque[float] = collections.deque(maxlen=2000)
        """Seconds from a sampled packet's arrival at the server to its sending."""
        self.outlet: Outlet | None = None
        """Where packets leave; set when ready."""
        self.active = False
        """ready, not paused, not closed and bound: forward now (kept up to date, since
        it is read for every packet)."""
        self._need_keyframe = kind == "video"
        self._resync = True
        self._seq_offset = 0
        self._ts_offset = 0
        self._run_start = 0
        self._last_seq = random.randrange(0, 0x8000)  # aiortc's choice: no early wrap
        self._last_ts = random.getrandbits(32)
        self._last_time: float | None = None
        self._reported_at = 0.0
        self._ext = b""
        self._level_id = 0
        self._level_ext: dict[int, bytes] = {}
        self._mid_id: int | None = None
        self._history: list[tuple[int, int, int, bytes] | None] | None = (
            [None] * HISTORY_SIZE if kind == "video" else None
        )
        self._rtx_seq = random.randrange(0, 0x8000)

    @property
    def key(self) -> ConsumerKey:
        return (self.subscriber_id, self.publisher_id, self.source)

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid if self.transceiver is not None else None

    @property
    def is_active(self) -> bool:
        """Forwarding now: ready, not paused, bound to a live producer."""
        return self.active

    def _update(self) -> None:
        was = self.active
        self.active = (
            self.ready
            and not self.paused
            and not self.closed
            and self.producer is not None
            and self.outlet is not None
        )
        if self.active and not was:
            self._restart()

    def bind(self, producer: Producer) -> None:
        """Forward from ``producer`` (a new one after the publisher reconnected, too)."""
        if self.producer is producer:
            return
        if self.producer is not None:
            self.producer.consumers.discard(self)
        self.producer = producer
        producer.consumers.add(self)
        self.active = False  # a new producer is a new run
        self._update()

    def unbind(self, producer: Producer) -> None:
        """The producer ended: producer-paused until a new one is bound."""
        if self.producer is producer:
            producer.consumers.discard(self)
            self.producer = None
            self._update()

    def pause(self) -> None:
        self.paused = True
        self._update()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._update()

    def set_ready(self, outlet: Outlet | None = None) -> None:
        """The subscriber's answer started its sender: packets may go out (through
        ``outlet``, by default the sender's own ``RtpOutlet``)."""
        if self.ready:
            return
        if outlet is None:
            if self.transceiver is None:
                return
            outlet = aiortc_seams.RtpOutlet(self.transceiver)
        self.outlet = outlet
        ids = self.outlet.extension_ids
        self._mid_id = ids.get(MID_URI)
        self._ext = extension_block(self._mid_id, self.outlet.mid)
        self._level_id = ids.get(AUDIO_LEVEL_URI, 0) if self.kind == "audio" else 0
        self.ready = True
        self._update()

    def _restart(self) -> None:
        """Start a new run of packets: renumber on the next one; video waits for a keyframe."""
        self._resync = True
        if self.kind == "video":
            self._need_keyframe = True
            if self.producer is not None:
                self.producer.request_keyframe()

    def request_keyframe(self) -> None:
        """The subscriber sent PLI/FIR: pass it on to the publisher (throttled there)."""
        if self.producer is not None and not self.paused:
            self.producer.request_keyframe()

    def forward(
        self,
        seq: int,
        ts: int,
        marker: int,
        payload: bytes,
        key: bool,
        level: int | None,
        arrival: float,
    ) -> None:
        """Send one packet from the producer to the subscriber, renumbered (hot path).

        ``key``: the packet starts a keyframe (always true for audio); ``level``: the
        publisher's audio level byte (V bit and -dBov), or None.
        """
        if not self.active:
            return
        self.packets_offered += 1
        if self._need_keyframe:
            if not key:
                self.packets_dropped += 1
                if self.producer is not None:
                    self.producer.request_keyframe()
                return
            self._need_keyframe = False
        if self._resync:
            self._resync = False
            self._seq_offset = (self._last_seq + 1 - seq) & 0xFFFF
            if self._last_time is None:
                self._ts_offset = (self._last_ts - ts) & 0xFFFFFFFF
            else:
                # Continue the timeline from where it stopped, advanced by the real pause,
                # so that the subscriber's jitter buffer sees neither a jump nor a rewind.
                rate = 90 if self.kind == "video" else 48
                advance = max(1, int((arrival - self._last_time) * 1000 * rate))
                self._ts_offset = (self._last_ts + advance - ts) & 0xFFFFFFFF
            self._run_start = seq
            marker = 1 if self.kind == "audio" else marker  # audio: a talkspurt starts
        elif (seq - self._run_start) & 0xFFFF >= 0x8000:
            self.packets_dropped += 1  # reordered from before this run: already renumbered
            return
        out = self.outlet
        assert out is not None
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        if self._level_id and level is not None:
            ext = self._level_ext.get(level)
            if ext is None:
                ext = self._level_ext[level] = with_audio_level(
                    self._mid_id, out.mid, self._level_id, level
                )
        else:
            ext = self._ext
        if not out.send(header(ext, marker, out.payload_type, out_seq, out_ts, out.ssrc) + payload):
            self.packets_dropped += 1
            return
        self.packets_sent += 1
        self.bytes_sent += len(payload)
        if self._history is not None:
            self._history[out_seq & _HISTORY_MASK] = (out_seq, out_ts, marker, payload)
        if seq_newer(out_seq, self._last_seq) or self._last_time is None:
            self._last_seq = out_seq
            self._last_ts = out_ts
            self._last_time = arrival
        if arrival - self._reported_at >= REPORT_EVERY_S:
            self._reported_at = arrival
            out.report(self.packets_sent, self.bytes_sent, out_ts)
        if not self.packets_sent % LATENCY_SAMPLE:
            self.latencies.append(time.monotonic() - arrival)

    def retransmit(self, seq: int) -> None:
        """The subscriber NACKed ``seq``: send it again (over RTX when negotiated)."""
        out = self.outlet
        if self._history is None or out is None or not self.active:
            return  # a paused consumer sends nothing, not even what it sent before
        entry = self._history[seq & _HISTORY_MASK]
        if entry is None or entry[0] != seq:
            return  # too old, or never sent: a late arrival from the publisher fills it
        _, ts, marker, payload = entry
        if out.rtx_payload_type is None:
            data = header(self._ext, marker, out.payload_type, seq, ts, out.ssrc) + payload
        else:
            rtx_seq, self._rtx_seq = self._rtx_seq, (self._rtx_seq + 1) & 0xFFFF
            data = header(self._ext, marker, out.rtx_payload_type, rtx_seq, ts, out.rtx_ssrc)
            data += SEQ.pack(seq) + payload
        if out.send(data):
            self.packets_retransmitted += 1

    def close(self) -> None:
        """Stop for good: the sender's loop ends."""
        if self.closed:
            return
        self.closed = True
        self.active = False
        if self.producer is not None:
            self.producer.consumers.discard(self)
            self.producer = None
        self.track.end()
