"""NACK and retransmission keep working through the SFU, on both legs.

The publisher is an in-process aiortc peer replaying a pre-encoded VP8 clip (no encoder
in the loop). 1 in 15 first transmissions of video packets is dropped, either on the
publisher's way to the server (the server's receiver, aiortc's, kept by the packet seam,
must NACK and the publisher retransmit over RTX) or on the server's way to the
subscriber (dropped as the subscriber receives them, as a lossy network would: the
subscriber NACKs, and the server's Consumer answers from its retransmission history).
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

from media import aiortc_seams
from media.config import MediaConfig
from media.routing import ParticipantView, RoomView
from media.sfu import SFU

from .harness import wait_for

# Real peer connections with simulated loss, for seconds of media.
pytestmark = pytest.mark.slow

FPS = 20


def vp8_clip(frames: int = 40) -> list[bytes]:
    enc: Any = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
    enc.time_base = fractions.Fraction(1, FPS)
    enc.bit_rate = 600_000
    enc.gop_size = frames
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rng = np.random.default_rng(0)
    out: list[bytes] = []
    for i in range(frames):
        img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)  # noise: several packets a frame
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    return out


class ReplayVideo(MediaStreamTrack):
    """Pre-encoded VP8 in real time; a PLI restarts the clip on its keyframe."""

    kind = "video"

    def __init__(self, clip: list[bytes]) -> None:
        super().__init__()
        self.clip, self.n, self.index, self.start = clip, 0, 0, time.monotonic()

    def keyframe(self) -> None:
        self.index = 0

    async def recv(self) -> av.Packet:  # type: ignore[type-arg]
        delay = self.start + self.n / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.clip[self.index % len(self.clip)])
        packet.pts = self.n * (90000 // FPS)
        packet.time_base = fractions.Fraction(1, 90000)
        self.n += 1
        self.index += 1
        return packet


def make_lossy(transceiver: Any, sent: dict[str, int]) -> None:
    """Drop 1 in 15 first transmissions of video sent by ``transceiver``; count RTX."""
    codecs = aiortc_seams.negotiated_codecs(transceiver)
    media_pt = codecs[0].payloadType
    rtx_pt = next(c.payloadType for c in codecs if c.mimeType.lower().endswith("/rtx"))
    dtls = transceiver.sender.transport
    original = dtls._send_rtp

    async def lossy(data: bytes) -> None:
        if 200 <= data[1] <= 206:  # RTCP
            await original(data)
            return None
        pt = data[1] & 0x7F
        if pt == media_pt:
            sent["media"] += 1
            if sent["media"] % 15 == 0:
                sent["dropped"] += 1
                return None
        elif pt == rtx_pt:
            sent["rtx"] += 1
        await original(data)

    dtls._send_rtp = lossy


def make_lossy_arrival(transceiver: Any, sent: dict[str, int]) -> None:
    """Drop 1 in 15 first transmissions of video as ``transceiver``'s side receives them."""
    codecs = aiortc_seams.negotiated_codecs(transceiver)
    media_pt = codecs[0].payloadType
    rtx_pt = next(c.payloadType for c in codecs if c.mimeType.lower().endswith("/rtx"))
    dtls = transceiver.receiver.transport
    original = dtls._handle_rtp_data

    async def lossy(data: bytes, arrival_time_ms: int) -> None:
        pt = data[1] & 0x7F
        if pt == media_pt:
            sent["media"] += 1
            if sent["media"] % 15 == 0:
                sent["dropped"] += 1
                return None
        elif pt == rtx_pt:
            sent["rtx"] += 1
        await original(data, arrival_time_ms)

    dtls._handle_rtp_data = lossy


@pytest.fixture
async def sfu() -> AsyncIterator[SFU]:
    peers: dict[str, RTCPeerConnection] = {}

    async def send(session_id: str, pid: str, message: dict[str, Any]) -> None:
        async def answer() -> None:
            pc = peers[pid]
            await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await s.handle_signal(
                session_id, pid, {"type": "answer", "sdp": pc.localDescription.sdp}
            )

        asyncio.ensure_future(answer())

    s = SFU(send, None, MediaConfig(announced_addresses=["127.0.0.1"]))
    s.peers = peers  # type: ignore[attr-defined]
    await s.update_room(
        RoomView("s1", (ParticipantView("pub", "P", "party"), ParticipantView("sub", "S", "party")))
    )
    try:
        yield s
    finally:
        for pc in peers.values():
            await pc.close()
        await s.close()


@pytest.mark.parametrize("leg", ["publisher to server", "server to subscriber"])
async def test_lost_packets_are_nacked_and_retransmitted_and_frames_arrive_whole(
    sfu: SFU, leg: str
) -> None:
    peers: dict[str, RTCPeerConnection] = sfu.peers  # type: ignore[attr-defined]
    pub = peers["pub"] = RTCPeerConnection()
    track = ReplayVideo(vp8_clip())
    transceiver = pub.addTransceiver(track, direction="sendonly")
    aiortc_seams.on_keyframe_request(transceiver.sender, track.keyframe)
    await pub.setLocalDescription(await pub.createOffer())
    answer = await sfu.handle_signal(
        "s1", "pub", {"type": "offer", "sdp": pub.localDescription.sdp}
    )
    assert answer is not None
    await pub.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))

    sent = {"media": 0, "dropped": 0, "rtx": 0}
    if leg == "publisher to server":
        make_lossy(transceiver, sent)

    sub = peers["sub"] = RTCPeerConnection()
    frames: list[bytes] = []

    @sub.on("track")
    def on_track(t: MediaStreamTrack) -> None:
        receiver = next(x.receiver for x in sub.getTransceivers() if x.receiver.track is t)
        aiortc_seams.install_encoded_frame_tap(receiver, lambda c, p: frames.append(bytes(p)))

    sub.addTransceiver("audio", direction="recvonly")
    await sub.setLocalDescription(await sub.createOffer())
    answer = await sfu.handle_signal(
        "s1", "sub", {"type": "offer", "sdp": sub.localDescription.sdp}
    )
    assert answer is not None
    await sub.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))

    if leg == "server to subscriber":

        async def consumer_negotiated() -> bool:
            consumers = sfu.routers["s1"].transports["sub"].consumers.values()
            return any(c.ready and c.transceiver is not None for c in consumers)

        await wait_for(consumer_negotiated)
        consumer = next(iter(sfu.routers["s1"].transports["sub"].consumers.values()))
        receiving = next(t for t in sub.getTransceivers() if t.mid == consumer.mid)
        make_lossy_arrival(receiving, sent)

    async def enough() -> bool:
        return len(frames) >= 60 and sent["dropped"] >= 10

    await wait_for(enough)
    assert sent["rtx"] >= sent["dropped"] // 2  # (most of) them were asked for and sent again
    if leg == "server to subscriber":
        assert consumer.packets_retransmitted >= sent["dropped"] // 2
    clip = set(track.clip)
    # Every frame the subscriber got is byte-identical to one the publisher sent: frames
    # with a hole would have been held back by the jitter buffer, not forwarded.
    assert all(f in clip for f in frames)
    # And the losses did not starve it: frames keep coming at the clip's rate.
    before = len(frames)
    await wait_for(lambda: _more(frames, before + 20))


async def _more(frames: list[bytes], n: int) -> bool:
    return len(frames) >= n


async def test_a_publishers_video_is_told_the_bitrate_cap_once_a_second(sfu: SFU) -> None:
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci

    peers: dict[str, RTCPeerConnection] = sfu.peers  # type: ignore[attr-defined]
    pub = peers["pub"] = RTCPeerConnection()
    transceiver = pub.addTransceiver(ReplayVideo(vp8_clip(10)), direction="sendonly")
    caps: list[tuple[int, list[int]]] = []
    original = transceiver.sender._handle_rtcp_packet

    async def record(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            caps.append(unpack_remb_fci(packet.fci))
        await original(packet)

    transceiver.sender._handle_rtcp_packet = record  # type: ignore[method-assign]
    await pub.setLocalDescription(await pub.createOffer())
    answer = await sfu.handle_signal("s1", "pub",
                                     {"type": "offer", "sdp": pub.localDescription.sdp})
    assert answer is not None
    await pub.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))

    async def capped_twice() -> bool:
        return len(caps) >= 2

    await wait_for(capped_twice)
    assert {bitrate for bitrate, _ in caps} == {sfu.config.video_bitrate_cap}
    assert all(ssrcs == [transceiver.sender._ssrc] for _, ssrcs in caps)
