"""A participant in Python: Socket.IO signaling plus an aiortc peer connection.

Publishes a steady tone (or silence) as its microphone and measures the energy of
every audio track it receives, per publishing participant.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from typing import Any, cast

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.signaling.harness import Client

RATE = 48_000
FRAME = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A microphone that plays a sine tone, paced in real time."""

    kind = "audio"

    def __init__(self, freq: float = 440.0, amplitude: float = 0.3) -> None:
        super().__init__()
        self.freq, self.amplitude = freq, amplitude
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        due = self._start + self._pts / RATE
        await asyncio.sleep(max(0.0, due - loop.time()))
        t = (np.arange(FRAME) + self._pts) / RATE
        samples = (np.sin(2 * math.pi * self.freq * t) * self.amplitude * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += FRAME
        return frame


def load_speech(path: str, repeat: int = 1, gap_s: float = 2.0) -> np.ndarray:
    """A file's audio as 48 kHz mono int16, repeated with silent gaps between."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks = []
    with av.open(path) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    speech = np.concatenate(chunks).astype(np.int16)
    gap = np.zeros(int(gap_s * RATE), dtype=np.int16)
    return np.concatenate([gap] + [np.concatenate([speech, gap]) for _ in range(repeat)]
                          + [np.zeros(RATE * 60, dtype=np.int16)])


class SpeechTrack(ToneTrack):
    """A microphone that plays recorded speech in real time, then silence."""

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        self.samples = samples

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        assert frame.pts is not None
        start = int(frame.pts)
        chunk = self.samples[start:start + FRAME]
        if len(chunk) < FRAME:
            chunk = np.pad(chunk, (0, FRAME - len(chunk)))
        out = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate, out.pts, out.time_base = RATE, frame.pts, frame.time_base
        return out


class RtcBot:
    """One participant's media: publishes a tone, records received audio energy."""

    def __init__(self, client: Client, tone: bool = True,
                 track: MediaStreamTrack | None = None) -> None:
        self.client = client
        self._tone = tone
        self._track = track
        self.pc = RTCPeerConnection()
        self.energy: dict[str, float] = {}
        """Sum of squared samples received, per publishing participant."""
        self.frames: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._mid_owner: dict[str, str] = {}
        self.pc.addTrack(track or (ToneTrack() if tone else ToneTrack(amplitude=0.0)))
        self.pc.on("track", self._on_track)
        client.sio.on("signal", self._on_signal)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._drain(track)))

    def _owner(self, track: MediaStreamTrack) -> str:
        for t in self.pc.getTransceivers():
            if t.receiver.track is track and t.mid is not None:
                return self._mid_owner.get(t.mid, f"mid:{t.mid}")
        return "unknown"

    async def _drain(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind != "audio":
                    continue
                who = self._owner(track)
                pcm = cast(av.AudioFrame, frame).to_ndarray().astype(np.float64) / 32768.0
                self.energy[who] = self.energy.get(who, 0.0) + float(np.sum(pcm * pcm))
                self.frames[who] = self.frames.get(who, 0) + 1
        except MediaStreamError:
            return

    async def _on_signal(self, message: dict[str, Any]) -> None:
        if message.get("type") != "offer":
            return
        for mid, info in (message.get("tracks") or {}).items():
            self._mid_owner[str(mid)] = str(info.get("participant_id"))
        await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        ack = await self.client.call("signal", {"type": "answer",
                                                "sdp": self.pc.localDescription.sdp})
        assert ack["ok"], ack

    async def publish(self) -> None:
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        mid = self.pc.getTransceivers()[0].mid
        ack = await self.client.call("signal", {"type": "offer",
                                                "sdp": self.pc.localDescription.sdp,
                                                "sources": {str(mid): "audio"}})
        assert ack["ok"], ack
        answer = ack["answer"]
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    def rebind(self, client: Client) -> None:
        """Signal through another connection (the participant reconnected elsewhere)."""
        self.client = client
        client.sio.on("signal", self._on_signal)

    async def restart(self) -> None:
        """What a browser does when its connection failed: a new peer connection, a new offer."""
        for _ in range(5):  # a dead media node answers media_timeout once, then moves
            ack = await self.client.call("signal", {"type": "restart"})
            if ack["ok"]:
                break
        assert ack["ok"], ack
        await self.pc.close()
        self._mid_owner.clear()
        self.pc = RTCPeerConnection()
        self.pc.addTrack(self._track or (ToneTrack() if self._tone else ToneTrack(amplitude=0.0)))
        self.pc.on("track", self._on_track)
        await self.publish()

    def energy_from(self, participant_id: str) -> float:
        return self.energy.get(participant_id, 0.0)

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        await self.pc.close()
