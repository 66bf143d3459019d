"""A Consumer: one subscriber's copy of one publisher source, forwarded encoded."""

from __future__ import annotations

import asyncio
import collections
import fractions
import logging
import time
from typing import TYPE_CHECKING

import av
from aiortc import MediaStreamTrack, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError

if TYPE_CHECKING:
    from .producer import Producer

logger = logging.getLogger(__name__)

QUEUE_FRAMES = 64
"""Frames buffered per consumer before it drops and waits for a keyframe."""

ConsumerKey = tuple[str, str, str]
"""(subscriber_id, publisher_id, source)."""


class ForwardTrack(MediaStreamTrack):
    """The track a subscriber's RTCRtpSender reads: encoded frames as av.Packet.

    RTCRtpSender packs any non-Frame it receives (``encoder.pack``), so nothing is
    encoded. It never ends on its own while its Consumer lives: while paused it simply
    waits, which keeps the sender alive (stopping a track under a waiting sender hangs it).
    """

    def __init__(self, kind: str, track_id: str) -> None:
        super().__init__()
        self.kind = kind
        self._track_id = track_id
        self.queue: asyncio.Queue[tuple[av.Packet, float] | None] = asyncio.Queue()
        self.latencies: collections.deque[float] = collections.deque(maxlen=2000)
        """Seconds from the frame's arrival at the server to its hand-over to the sender."""

    @property
    def id(self) -> str:
        return self._track_id

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        item = await self.queue.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        packet, arrival = item
        self.latencies.append(time.monotonic() - arrival)
        return packet


class Consumer:
    """One subscriber receiving one publisher source, with its own timestamp line.

    ``paused`` is the router's (routing says no: caucus, mute), ``producer`` None means
    producer-paused (the publisher is not sending that source right now, e.g. while it
    reconnects). It forwards only when both allow, and only once its sender runs (ready).
    RTP timestamps are rewritten so that they never go back or jump across a pause or a
    switch to a new producer (LiveKit's ``resyncLocked``).
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
        """What the subscriber's sender reads."""
        self.transceiver: RTCRtpTransceiver | None = None
        """Set when the transport adds it to the peer connection."""
        self.producer: Producer | None = None
        """The producer it forwards from; None while producer-paused."""
        self.paused = True
        """Routing (caucus, mediator mute) forbids forwarding now."""
        self.ready = False
        """The subscriber answered the offer that carries it: its sender runs."""
        self.closed = False
        self.frames_sent = 0
        """Frames handed to the sender."""
        self.bytes_sent = 0
        """Encoded bytes handed to the sender."""
        self.frames_dropped = 0
        """Frames dropped because the sender fell behind (not RTP loss: never numbered)."""
        self._need_keyframe = kind == "video"
        self._resync = True
        self._offset = 0
        self._last_out_pts: int | None = None
        self._last_out_time = 0.0

    @property
    def key(self) -> ConsumerKey:
        return (self.subscriber_id, self.publisher_id, self.source)

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid if self.transceiver is not None else None

    @property
    def is_active(self) -> bool:
        """Forwarding now: ready, not paused, bound to a live producer."""
        return self.ready and not self.paused and not self.closed and self.producer is not None

    def bind(self, producer: Producer) -> None:
        """Forward from ``producer`` (a new one after the publisher reconnected, too)."""
        if self.producer is producer:
            return
        if self.producer is not None:
            self.producer.consumers.discard(self)
        self.producer = producer
        producer.consumers.add(self)
        self._restart()

    def unbind(self, producer: Producer) -> None:
        """The producer ended: producer-paused until a new one is bound."""
        if self.producer is producer:
            producer.consumers.discard(self)
            self.producer = None

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._restart()

    def set_ready(self) -> None:
        if not self.ready:
            self.ready = True
            self._restart()

    def _restart(self) -> None:
        """Start a new run of frames: resync timestamps; video waits for a keyframe."""
        self._resync = True
        if self.kind == "video":
            self._need_keyframe = True
            if self.is_active and self.producer is not None:
                self.producer.request_keyframe()

    def request_keyframe(self) -> None:
        """The subscriber sent PLI/FIR: pass it on to the publisher (throttled there)."""
        if self.producer is not None and not self.paused:
            self.producer.request_keyframe()

    def deliver(
        self, data: bytes, pts: int, time_base: fractions.Fraction, key: bool, arrival: float
    ) -> None:
        """Take one encoded frame from the producer; drop it unless active."""
        if not self.is_active:
            return
        if self._need_keyframe:
            if not key:
                if self.producer is not None:
                    self.producer.request_keyframe()
                return
            self._need_keyframe = False
        if self._resync:
            self._resync = False
            if self._last_out_pts is None:
                self._offset = -pts
            else:
                # Continue the timeline from where it stopped, advanced by the real pause,
                # so that the subscriber's jitter buffer sees neither a jump nor a rewind.
                elapsed = max(0.0, arrival - self._last_out_time)
                advance = max(1, int(elapsed / float(time_base)))
                self._offset = self._last_out_pts + advance - pts
        out_pts = pts + self._offset
        self._last_out_pts = out_pts
        self._last_out_time = arrival
        if self.track.queue.qsize() >= QUEUE_FRAMES:
            # The sender is not keeping up (or not sending at all): drop the backlog.
            while not self.track.queue.empty():
                self.track.queue.get_nowait()
                self.frames_dropped += 1
            if self.kind == "video":
                self._need_keyframe = True
                return
        packet = av.Packet(data)
        packet.pts = out_pts
        packet.time_base = time_base
        self.track.queue.put_nowait((packet, arrival))
        self.frames_sent += 1
        self.bytes_sent += len(data)

    def close(self) -> None:
        """Stop for good: the sender's loop ends when it reads the end marker."""
        if self.closed:
            return
        self.closed = True
        if self.producer is not None:
            self.producer.consumers.discard(self)
            self.producer = None
        self.track.queue.put_nowait(None)
