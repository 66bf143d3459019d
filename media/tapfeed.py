"""Tap plumbing: one publisher's audio decoded once, 16 kHz mono, for transcription."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

import av
import numpy as np

from .tap import TAP_SAMPLE_RATE, TapChunk, TapSink, TapStamp

logger = logging.getLogger(__name__)

CHUNK_SAMPLES = TAP_SAMPLE_RATE // 10
"""Samples per TapChunk (100 ms): fewer, larger pushes than one per 20 ms packet."""

_Item = tuple[bytes, int, float, TapStamp]
_PAUSE = object()
"""Queue marker: the audio stopped reaching the tap (mute, lobby, ...); close the utterance."""


class TapFeed:
    """Decodes one audio Producer's Opus in a worker thread and pushes TapChunks.

    Decoding runs off the event loop, like aiortc's ``decoder_worker``; chunks come back
    with ``call_soon_threadsafe`` so that ``TapSink.push`` runs on the loop and never
    blocks it. A sink error is logged and the feed goes on. Every frame carries the
    ``TapStamp`` current when it arrived, and a chunk never spans two stamps: who spoke,
    where, and who could hear it are fixed when the audio is heard.
    """

    def __init__(self, *, sink: TapSink, session_id: str, participant_id: str,
                 clock_origin: float) -> None:
        self._sink = sink
        self._session_id = session_id
        self._participant_id = participant_id
        self._origin = clock_origin
        self._loop = asyncio.get_running_loop()
        self._queue: queue.Queue[_Item | object | None] = queue.Queue(maxsize=500)
        self._thread = threading.Thread(target=self._run, name="tap-decoder", daemon=True)
        self._thread.start()
        self._closed = False

    def feed(self, data: bytes, pts: int, arrival: float, stamp: TapStamp) -> None:
        """Queue one Opus frame (event loop thread); dropped if the decoder is behind."""
        if self._closed:
            return
        try:
            self._queue.put_nowait((data, pts, arrival, stamp))
        except queue.Full:
            logger.warning("tap decoder behind for %s: frame dropped", self._participant_id)

    def pause(self) -> None:
        """The audio stops reaching the tap for now: what was heard is captioned, the open
        utterance closes, and nothing more is decoded until frames are fed again."""
        if not self._closed:
            self._queue.put(_PAUSE)

    def close(self) -> None:
        """End of the track: flush, then tell the sink."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)

    def _run(self) -> None:
        decoder = av.CodecContext.create("libopus", "r")
        decoder.sample_rate = 48000
        decoder.layout = "stereo"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=TAP_SAMPLE_RATE)
        pending: list[np.ndarray] = []
        pending_len = 0
        start = 0.0
        stamp: TapStamp | None = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                if item is _PAUSE:
                    if pending and stamp is not None:
                        self._emit(pending, start, stamp)
                    pending, pending_len = [], 0
                    self._call(self._end)
                    continue
                assert isinstance(item, tuple)
                data, _pts, arrival, item_stamp = item
                if pending and item_stamp != stamp:
                    assert stamp is not None
                    self._emit(pending, start, stamp)
                    pending, pending_len = [], 0
                if not pending:
                    start = arrival - self._origin
                    stamp = item_stamp
                packet = av.Packet(data)
                try:
                    frames = decoder.decode(packet)
                except av.FFmpegError:
                    continue  # one bad frame from one publisher: drop it, go on
                for frame in frames:
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                        pending.append(samples)
                        pending_len += len(samples)
                if pending_len >= CHUNK_SAMPLES:
                    assert stamp is not None
                    self._emit(pending, start, stamp)
                    pending, pending_len = [], 0
            if pending and stamp is not None:
                self._emit(pending, start, stamp)
        except Exception:
            logger.exception("tap decoder for %s failed", self._participant_id)
        finally:
            self._call(self._end)

    def _call(self, fn: Callable[[], None]) -> None:
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:
            pass  # the event loop is already closed: nobody is listening

    def _emit(self, parts: list[np.ndarray], start: float, stamp: TapStamp) -> None:
        chunk = TapChunk(
            session_id=self._session_id,
            speaker=stamp.speaker,
            caucus_id=stamp.caucus_id,
            samples=np.concatenate(parts),
            start=start,
            heard_by=stamp.heard_by,
        )
        try:
            self._loop.call_soon_threadsafe(self._push, chunk)
        except RuntimeError:
            pass  # the event loop is closed (shutdown)

    def _push(self, chunk: TapChunk) -> None:
        try:
            self._sink.push(chunk)
        except Exception:
            logger.exception("tap sink push failed")

    def _end(self) -> None:
        try:
            self._sink.end_of_stream(self._session_id, self._participant_id)
        except Exception:
            logger.exception("tap sink end_of_stream failed")
