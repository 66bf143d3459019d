"""The transcription tap: each publisher's audio decoded once, 16 kHz mono, with its caucus.

The publisher here is an in-process aiortc peer (no browser needed): it sends a tone.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import AsyncIterator
from typing import Any

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from media.config import MediaConfig
from media.routing import ParticipantView, RoomView
from media.sfu import SFU
from media.tap import TAP_SAMPLE_RATE, TapChunk

from .harness import wait_for


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames, paced in real time like a microphone."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / 48000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(960) + self._pts) / 48000
        samples = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, 48000)
        self._pts += 960
        return frame


class Sink:
    def __init__(self) -> None:
        self.chunks: list[TapChunk] = []
        self.ended: list[tuple[str, str]] = []

    def push(self, chunk: TapChunk) -> None:
        self.chunks.append(chunk)

    def end_of_stream(self, session_id: str, participant_id: str) -> None:
        self.ended.append((session_id, participant_id))


async def _noop_send(session_id: str, participant_id: str, message: dict[str, Any]) -> None:
    return None


@pytest.fixture
async def sfu_and_sink() -> AsyncIterator[tuple[SFU, Sink]]:
    sink = Sink()
    sfu = SFU(_noop_send, sink, MediaConfig(announced_addresses=["127.0.0.1"]))
    try:
        yield sfu, sink
    finally:
        await sfu.close()


def view(caucus: str | None, version: int = 0, **alice: Any) -> RoomView:
    return RoomView(
        "s1",
        (
            ParticipantView("alice", "Alice", "party", caucus_id=caucus, **alice),
            ParticipantView("med", "Mediator", "mediator", caucus_id=caucus),
            ParticipantView("bob", "Bob", "party"),
        ),
        version=version,
    )


async def publish(sfu: SFU, pid: str) -> RTCPeerConnection:
    pc = RTCPeerConnection()
    pc.addTransceiver(ToneTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await sfu.handle_signal("s1", pid, {"type": "offer", "sdp": pc.localDescription.sdp})
    assert answer is not None and answer["type"] == "answer"
    await pc.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))
    return pc


async def test_tap_gets_16khz_mono_audio_with_the_speaker_and_their_caucus(
    sfu_and_sink: tuple[SFU, Sink],
) -> None:
    sfu, sink = sfu_and_sink
    await sfu.update_room(view(None))
    pc = await publish(sfu, "alice")
    try:

        async def some_audio() -> bool:
            return sum(len(c.samples) for c in sink.chunks) >= TAP_SAMPLE_RATE // 2

        await wait_for(some_audio)
        chunk = sink.chunks[-1]
        assert chunk.session_id == "s1"
        assert chunk.heard_by == {"med", "bob"}  # who routing let hear it, not the speaker
        assert chunk.speaker.participant_id == "alice" and chunk.speaker.name == "Alice"
        assert chunk.caucus_id is None
        assert chunk.samples.dtype == np.int16 and chunk.samples.ndim == 1
        audio = np.concatenate([c.samples for c in sink.chunks[1:]]).astype(np.float64)
        assert np.sqrt(np.mean(audio**2)) > 1000  # the tone, not silence
        # 440 Hz at 16 kHz: the spectrum peaks at the tone.
        spectrum = np.abs(np.fft.rfft(audio[: TAP_SAMPLE_RATE // 4]))
        peak_hz = np.argmax(spectrum) * TAP_SAMPLE_RATE / (TAP_SAMPLE_RATE // 4)
        assert abs(peak_hz - 440) < 20
        assert all(b.start >= a.start for a, b in zip(sink.chunks, sink.chunks[1:], strict=False))

        # Into a caucus: what Alice says from now on is stamped with it.
        await sfu.update_room(view("c1"))
        seen = len(sink.chunks)

        async def caucus_audio() -> bool:
            return any(c.caucus_id == "c1" for c in sink.chunks[seen:])

        await wait_for(caucus_audio)
        assert all(c.caucus_id is None for c in sink.chunks[:seen])
        assert all(c.heard_by == {"med"} for c in sink.chunks if c.caucus_id == "c1")
    finally:
        await pc.close()

    async def ended() -> bool:
        return ("s1", "alice") in sink.ended

    await wait_for(ended)


async def test_the_tap_hears_only_what_routing_forwards(sfu_and_sink: tuple[SFU, Sink]) -> None:
    """A mute, the lobby, no publish grant or a hidden seat: no forwarding, and no captions
    either: the tap stops, the open utterance is closed, nothing more is decoded."""
    sfu, sink = sfu_and_sink
    version = 1
    await sfu.update_room(view(None, version))
    pc = await publish(sfu, "alice")
    producer = None
    try:
        async def some_audio() -> bool:
            return len(sink.chunks) >= 3

        await wait_for(some_audio)
        producer = sfu.routers["s1"].producers[("alice", "audio")]
        for silenced in ({"muted_sources": frozenset({"audio"})}, {"present": False},
                         {"can_publish": False}, {"hidden": True}):
            version += 1
            ends = len(sink.ended)
            await sfu.update_room(view(None, version, **silenced))

            async def utterance_closed(ends: int = ends) -> bool:
                return len(sink.ended) > ends

            await wait_for(utterance_closed)
            heard, frames = len(sink.chunks), producer.frames

            async def her_microphone_goes_on(frames: int = frames) -> bool:
                return producer is not None and producer.frames >= frames + 25

            await wait_for(her_microphone_goes_on)  # half a second more reached the server
            assert len(sink.chunks) == heard, f"tap audio while {silenced}"
            version += 1
            await sfu.update_room(view(None, version))
            back = len(sink.chunks)

            async def tapped_again(back: int = back) -> bool:
                return len(sink.chunks) > back

            await wait_for(tapped_again)
    finally:
        await pc.close()


async def test_a_room_view_older_than_the_applied_one_is_dropped(
        sfu_and_sink: tuple[SFU, Sink]) -> None:
    """Snapshots can reach the SFU out of order; a stale one must not route a caucus as
    joint (or tap it as joint)."""
    sfu, sink = sfu_and_sink
    await sfu.update_room(view("c1", version=5))
    router = sfu.routers["s1"]
    await sfu.update_room(view(None, version=4))  # the joint layout from before the caucus
    alice = router.view.participant("alice")
    assert router.view.version == 5 and alice is not None and alice.caucus_id == "c1"
    assert all(r.subscriber_id != "bob" for r in router.active_routes
               if r.publisher_id == "alice")
    await sfu.update_room(view(None, version=6))
    assert any(r.subscriber_id == "bob" for r in router.active_routes
               if r.publisher_id == "alice")
