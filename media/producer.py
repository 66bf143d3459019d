"""A Producer: one participant's published track, arriving as RTP packets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from . import aiortc_seams
from .rtp import keyframe_detector

if TYPE_CHECKING:
    from .archive import ArchiveFeed
    from .consumer import Consumer
    from .tap import TapStamp
    from .tapfeed import TapFeed

logger = logging.getLogger(__name__)

REMB_INTERVAL_S = 1.0
"""How often a publisher's video is told the bitrate cap."""


class Producer:
    """A published track: fans each RTP packet out to its active Consumers as it arrives.

    No frame is reassembled and nothing is decoded here; each audio packet's payload
    (one Opus frame) is also handed once to the transcription tap, which decodes it.
    """

    def __init__(
        self,
        *,
        participant_id: str,
        source: str,
        track: MediaStreamTrack,
        receiver: RTCRtpReceiver,
        codec: RTCRtpCodecParameters,
        keyframe_interval: float,
        on_ended: Callable[[Producer], None],
        bitrate_cap: int = 0,
    ) -> None:
        self.participant_id = participant_id
        """Publisher's participant id."""
        self.source = source
        """"audio", "video" or "screen"."""
        self.kind = track.kind
        """"audio" or "video"."""
        self.codec = codec
        """The codec the publisher sends with (subscribers are pinned to it)."""
        self.consumers: set[Consumer] = set()
        """Consumers bound to this producer (active or paused)."""
        self.tap: TapFeed | None = None
        """Decodes audio once for transcription; None without a tap or for video."""
        self.tap_stamp: TapStamp | None = None
        """Where this audio is heard now (set by the router on every reconcile); None:
        nothing of it reaches the tap. Stamped on tap audio as it arrives."""
        self.archive: ArchiveFeed | None = None
        """Writes audio packets to the archive as they are; None without an archive."""
        self.archive_stamp: TapStamp | None = None
        """Where this audio is heard now, when it may be recorded (recording on, the
        speaker consented); None: nothing of it is archived."""
        self.packets = 0
        """RTP packets received (RTX unwrapped; padding-only packets included)."""
        self.frames = 0
        """Frames received: each audio packet (one Opus frame) and each video packet that
        ends a frame (marker bit)."""
        self.bytes = 0
        """Payload bytes received."""
        self.closed = False
        self._receiver = receiver
        self._keyframe_interval = keyframe_interval
        self._last_keyframe_request = -1e9
        self._on_ended = on_ended
        self._is_key = keyframe_detector(codec.mimeType) if self.kind == "video" else None
        aiortc_seams.install_packet_tap(receiver, self._on_packet)
        self._watch = asyncio.ensure_future(self._watch_end(track))
        self._cap: asyncio.Task[None] | None = None
        if self.kind == "video" and bitrate_cap > 0:
            aiortc_seams.stop_bandwidth_estimation(receiver)
            self._cap = asyncio.ensure_future(self._send_cap(bitrate_cap))

    def _on_packet(self, packet: RtpPacket) -> None:
        """One RTP packet from the publisher (event loop thread): forward it now."""
        if self.closed:
            return
        now = time.monotonic()
        payload = packet.payload
        self.packets += 1
        self.bytes += len(payload)
        if not payload:
            return  # padding only (bandwidth probing): nothing to forward or decode
        key = True if self._is_key is None else self._is_key(payload)
        vad_level = packet.extensions.audio_level
        level = None if vad_level is None else (0x80 if vad_level[0] else 0) | vad_level[1]
        seq, ts, marker = packet.sequence_number, packet.timestamp, packet.marker
        if marker or self._is_key is None:
            self.frames += 1
        for consumer in self.consumers:
            try:
                consumer.forward(seq, ts, marker, payload, key, level, now)
            except Exception:
                # One subscriber's fault never stops the others (bad input is dropped).
                logger.exception("consumer %s failed to take a packet", consumer.key)
        if self.tap is not None and self.tap_stamp is not None:
            self.tap.feed(payload, ts, now, self.tap_stamp)
        if self.archive is not None and self.archive_stamp is not None:
            try:
                self.archive.feed(seq, ts, payload, now, self.archive_stamp)
            except Exception:
                logger.exception("archive of %s failed to take a packet", self.participant_id)

    def set_tap_stamp(self, stamp: TapStamp | None) -> None:
        """Routing changed: tap the audio under ``stamp`` from the next frame on, or stop
        tapping it (``None``) and close the utterance that was open."""
        if stamp is None and self.tap_stamp is not None and self.tap is not None:
            self.tap.pause()
        self.tap_stamp = stamp

    def set_archive_stamp(self, stamp: TapStamp | None) -> None:
        """Routing or the recording switch changed: archive under ``stamp`` from the next
        packet on (a new segment when it differs), or stop (``None``)."""
        if stamp is None and self.archive_stamp is not None and self.archive is not None:
            self.archive.pause()
        self.archive_stamp = stamp

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per ``keyframe_interval``."""
        if self.kind != "video" or self.closed:
            return
        now = time.monotonic()
        if now - self._last_keyframe_request < self._keyframe_interval:
            return
        self._last_keyframe_request = now
        for ssrc in aiortc_seams.media_ssrcs(self._receiver):
            asyncio.ensure_future(aiortc_seams.send_pli(self._receiver, ssrc))

    async def _send_cap(self, bitrate: int) -> None:
        """Send the publisher a REMB with the cap once a second (loop task, never raises)."""
        try:
            while not self.closed:
                ssrcs = aiortc_seams.media_ssrcs(self._receiver)
                if ssrcs:
                    await aiortc_seams.send_remb(self._receiver, bitrate, ssrcs)
                await asyncio.sleep(REMB_INTERVAL_S)
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("REMB to %s/%s failed", self.participant_id, self.source)

    async def _watch_end(self, track: MediaStreamTrack) -> None:
        """Wait for the remote track to end (receiver stopped, BYE, connection lost).

        The track only ever carries the end-of-stream marker: frames bypass it.
        """
        try:
            while True:
                await track.recv()
        except (MediaStreamError, asyncio.CancelledError):
            pass
        except Exception:
            logger.exception("producer %s/%s watch failed", self.participant_id, self.source)
        finally:
            self.close()

    def close(self) -> None:
        """End this producer: consumers go producer-paused, the tap gets end-of-stream."""
        if self.closed:
            return
        self.closed = True
        for consumer in tuple(self.consumers):
            consumer.unbind(self)
        if self.tap is not None:
            self.tap.close()
        if self.archive is not None:
            self.archive.close()
        self._watch.cancel()
        if self._cap is not None:
            self._cap.cancel()
        try:
            self._on_ended(self)
        except Exception:
            logger.exception("producer end listener failed")
