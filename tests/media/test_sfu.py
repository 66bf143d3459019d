"""SFU signaling behaviour with in-process aiortc participants (no browser)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from media.config import MediaConfig
from media.errors import (
    BadMessage,
    MediaError,
    NegotiationCollision,
    UnknownParticipant,
    WrongState,
)
from media.routing import ParticipantView, RoomView
from media.sfu import SFU

from .harness import wait_for
from .test_tap import Sink, ToneTrack


class Client:
    """An aiortc participant that publishes a tone and answers the server's offers."""

    def __init__(self, sfu: SFU, pid: str, hold_offers: bool = False) -> None:
        self.sfu = sfu
        self.pid = pid
        self.pc = RTCPeerConnection()
        self.hold_offers = hold_offers
        self.held: list[dict[str, Any]] = []
        self.tracks: dict[str, dict[str, Any]] = {}
        self.frames: dict[str, int] = {}
        self.pc.on("track", self._on_track)

    async def publish(self) -> None:
        self.pc.addTransceiver(ToneTrack(), direction="sendonly")
        await self.offer()

    async def offer(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self.sfu.handle_signal(
            "s1", self.pid, {"type": "offer", "sdp": self.pc.localDescription.sdp}
        )
        assert answer is not None
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=str(answer["sdp"]), type="answer")
        )

    async def on_push(self, message: dict[str, Any]) -> None:
        if self.hold_offers:
            self.held.append(message)
            return
        await self.answer(message)

    async def answer(self, message: dict[str, Any]) -> None:
        self.tracks.update(message["tracks"])
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.sfu.handle_signal(
            "s1", self.pid, {"type": "answer", "sdp": self.pc.localDescription.sdp}
        )

    def _on_track(self, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        asyncio.ensure_future(self._count(str(mid), track))

    async def _count(self, mid: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.frames[mid] = self.frames.get(mid, 0) + 1
        except MediaStreamError:
            pass

    def frames_from(self, publisher: str) -> int:
        return sum(
            n
            for mid, n in self.frames.items()
            if self.tracks.get(mid, {}).get("participant_id") == publisher
        )


@pytest.fixture
async def setup() -> AsyncIterator[tuple[SFU, dict[str, Client], Sink]]:
    clients: dict[str, Client] = {}

    async def send(session_id: str, participant_id: str, message: dict[str, Any]) -> None:
        asyncio.ensure_future(clients[participant_id].on_push(message))

    sink = Sink()
    sfu = SFU(send, sink, MediaConfig(announced_addresses=["127.0.0.1"]))
    await sfu.update_room(
        RoomView("s1", tuple(ParticipantView(p, p, "party") for p in ("a", "b", "c")))
    )
    try:
        yield sfu, clients, sink
    finally:
        for c in clients.values():
            await c.pc.close()
        await sfu.close()


async def test_an_unknown_participant_or_session_is_refused(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    sfu, _, _ = setup
    with pytest.raises(UnknownParticipant) as err:
        await sfu.handle_signal("s1", "zed", {"type": "offer", "sdp": "v=0"})
    assert err.value.code == "unknown_participant" and not err.value.retryable
    with pytest.raises(UnknownParticipant):
        await sfu.handle_signal("nope", "a", {"type": "offer", "sdp": "v=0"})


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"type": 3},
        {"type": "offer"},
        {"type": "offer", "sdp": ""},
        {"type": "offer", "sdp": "x" * 70000},
        {"type": "dance"},
    ],
)
async def test_malformed_messages_get_bad_message(
    setup: tuple[SFU, dict[str, Client], Sink], message: dict[str, Any]
) -> None:
    sfu, _, _ = setup
    with pytest.raises(BadMessage) as err:
        await sfu.handle_signal("s1", "a", message)
    assert err.value.to_dict()["code"] == "bad_message"


async def test_an_answer_with_no_offer_outstanding_is_wrong_state(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    sfu, clients, _ = setup
    clients["a"] = Client(sfu, "a")
    await clients["a"].publish()
    with pytest.raises(WrongState):
        await sfu.handle_signal(
            "s1", "a", {"type": "answer", "sdp": clients["a"].pc.localDescription.sdp}
        )


async def test_subscribers_receive_each_publisher_mapped_by_mid(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    sfu, clients, _ = setup
    for pid in ("a", "b", "c"):
        clients[pid] = Client(sfu, pid)
        await clients[pid].publish()

    async def everyone_hears_everyone() -> bool:
        return all(clients[s].frames_from(p) > 10 for s in clients for p in clients if p != s)

    await wait_for(everyone_hears_everyone)
    for s, client in clients.items():
        assert {t["participant_id"] for t in client.tracks.values()} == set(clients) - {s}
    # Audio is decoded once per publisher for the tap, not once per subscriber.
    assert [t.name for t in threading.enumerate()].count("tap-decoder") == 3
    stats = await sfu.stats()
    assert stats.forwarded_streams == 6 and stats.producers == 3
    assert stats.packets_forwarded > 60 and stats.packets_dropped <= stats.packets_forwarded
    for producer in sfu.routers["s1"].producers.values():
        assert producer.frames == producer.packets > 0  # audio: one Opus frame a packet


async def test_an_offer_during_a_server_offer_is_glare_and_retryable(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    sfu, clients, _ = setup
    clients["a"] = Client(sfu, "a")
    await clients["a"].publish()
    clients["b"] = Client(sfu, "b", hold_offers=True)
    await clients["b"].publish()

    async def offered() -> bool:
        return bool(clients["b"].held)

    await wait_for(offered)
    with pytest.raises(NegotiationCollision) as err:
        await sfu.handle_signal(
            "s1", "b", {"type": "offer", "sdp": clients["b"].pc.localDescription.sdp}
        )
    assert err.value.retryable and err.value.code == "glare"
    await clients["b"].answer(clients["b"].held.pop())

    async def b_hears_a() -> bool:
        return clients["b"].frames_from("a") > 10

    await wait_for(b_hears_a)


async def test_removing_a_participant_ends_their_tap_and_stops_their_tracks(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    sfu, clients, sink = setup
    for pid in ("a", "b"):
        clients[pid] = Client(sfu, pid)
        await clients[pid].publish()

    async def flowing() -> bool:
        return clients["b"].frames_from("a") > 5

    await wait_for(flowing)
    await sfu.remove_participant("s1", "a")

    async def ended() -> bool:
        return ("s1", "a") in sink.ended

    await wait_for(ended)
    assert "a" not in sfu.routers["s1"].transports
    with pytest.raises(MediaError):
        await sfu.handle_signal("s1", "a", {"type": "answer", "sdp": "v=0"})


async def test_a_codec_that_cannot_be_forwarded_is_refused_for_that_participant_only(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    from aiortc import RTCRtpSender

    from media.errors import CodecNotForwardable

    sfu, clients, _ = setup
    clients["a"] = Client(sfu, "a")
    await clients["a"].publish()
    pcmu = RTCPeerConnection()
    t = pcmu.addTransceiver(ToneTrack(), direction="sendonly")
    t.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/PCMU"]
    )
    await pcmu.setLocalDescription(await pcmu.createOffer())
    with pytest.raises(CodecNotForwardable) as err:
        await sfu.handle_signal("s1", "b", {"type": "offer", "sdp": pcmu.localDescription.sdp})
    assert "PCMU" in err.value.message
    assert "b" not in sfu.routers["s1"].transports
    await pcmu.close()
    # A's session goes on, and B can start over with a codec that forwards.
    clients["b"] = Client(sfu, "b")
    await clients["b"].publish()

    async def b_hears_a() -> bool:
        return clients["b"].frames_from("a") > 5

    await wait_for(b_hears_a)


async def test_a_second_video_track_is_the_screen_and_declared_sources_are_kept(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    from aiortc.mediastreams import VideoStreamTrack

    sfu, _, _ = setup
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        mids = [t.mid for t in pc.getTransceivers()]
        # A client that only knows kinds declares both video tracks as "video".
        sources = {mids[0]: "audio", mids[1]: "video", mids[2]: "video"}
        msg = {"type": "offer", "sdp": pc.localDescription.sdp, "sources": sources}
        assert await sfu.handle_signal("s1", "a", msg) is not None
        assert {s for (p, s) in sfu.routers["s1"].producers if p == "a"} == {
            "audio",
            "video",
            "screen",
        }
    finally:
        await pc.close()


async def test_a_screen_beside_the_camera_is_received(
    setup: tuple[SFU, dict[str, Client], Sink],
) -> None:
    """Two video m-lines on one bundled connection (a browser always bundles): packets of
    the second (the screen) reach its producer. With aiortc's default bundle policy the
    second video's receiver stayed on a transport the BUNDLE step stopped, and got none."""
    from aiortc import RTCBundlePolicy, RTCConfiguration
    from aiortc.mediastreams import VideoStreamTrack

    sfu, _, _ = setup
    pc = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        mids = [t.mid for t in pc.getTransceivers()]
        sources = {mids[0]: "audio", mids[1]: "video", mids[2]: "screen"}
        msg = {"type": "offer", "sdp": pc.localDescription.sdp, "sources": sources}
        answer = await sfu.handle_signal("s1", "a", msg)
        assert answer is not None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))
        producers = sfu.routers["s1"].producers

        async def both_arrive() -> bool:
            return all(producers[("a", s)].packets > 10 for s in ("video", "screen"))

        await wait_for(both_arrive)
    finally:
        await pc.close()
