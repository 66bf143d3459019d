"""A Producer: one participant's published track, arriving as encoded frames."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from . import aiortc_seams

if TYPE_CHECKING:
    from .consumer import Consumer
    from .tap import TapStamp
    from .tapfeed import TapFeed

logger = logging.getLogger(__name__)


def is_keyframe(codec: RTCRtpCodecParameters, data: bytes) -> bool:
    """Whether an encoded video frame can be decoded on its own."""
    name = codec.mimeType.lower()
    if name == "video/vp8":
        # RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
        return len(data) > 0 and (data[0] & 0x01) == 0
    if name == "video/h264":
        # aiortc depayloads to Annex B; an IDR slice (5) or SPS (7) starts a keyframe.
        i = data.find(b"\x00\x00\x01")
        while i != -1 and i + 3 < len(data):
            if data[i + 3] & 0x1F in (5, 7):
                return True
            i = data.find(b"\x00\x00\x01", i + 3)
        return False
    return True


class Producer:
    """A published track: fans each encoded frame out to its active Consumers.

    Nothing is decoded here, except audio handed once to the transcription tap.
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
        self.frames = 0
        """Encoded frames received."""
        self.bytes = 0
        """Encoded payload bytes received."""
        self.closed = False
        self._receiver = receiver
        self._keyframe_interval = keyframe_interval
        self._last_keyframe_request = -1e9
        self._on_ended = on_ended
        aiortc_seams.install_encoded_frame_tap(receiver, self._on_frame)
        self._watch = asyncio.ensure_future(self._watch_end(track))

    def _on_frame(self, codec: RTCRtpCodecParameters, packet: av.Packet) -> None:
        """One complete encoded frame from the publisher (event loop thread)."""
        if self.closed:
            return
        now = time.monotonic()
        data = bytes(packet)
        pts = packet.pts or 0
        self.frames += 1
        self.bytes += len(data)
        key = self.kind == "audio" or is_keyframe(codec, data)
        for consumer in tuple(self.consumers):
            try:
                consumer.deliver(data, pts, packet.time_base, key, now)
            except Exception:
                # One subscriber's fault never stops the others (bad input is dropped).
                logger.exception("consumer %s failed to take a frame", consumer.key)
        if self.tap is not None and self.tap_stamp is not None:
            self.tap.feed(data, pts, now, self.tap_stamp)

    def set_tap_stamp(self, stamp: TapStamp | None) -> None:
        """Routing changed: tap the audio under ``stamp`` from the next frame on, or stop
        tapping it (``None``) and close the utterance that was open."""
        if stamp is None and self.tap_stamp is not None and self.tap is not None:
            self.tap.pause()
        self.tap_stamp = stamp

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
        self._watch.cancel()
        try:
            self._on_ended(self)
        except Exception:
            logger.exception("producer end listener failed")
