"""A Consumer's gate, numbering and retransmission, without a network.

Packets go to a recording outlet that parses what would have been sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from media.consumer import Consumer
from media.rtp import AUDIO_LEVEL_URI, MID_URI


@dataclass
class RecordingOutlet:
    """Stands in for a subscriber's sender: keeps every packet, parsed."""

    ssrc: int = 1111
    rtx_ssrc: int = 2222
    payload_type: int = 109
    rtx_payload_type: int | None = 110
    extension_ids: dict[str, int] = field(default_factory=lambda: {MID_URI: 9})
    mid: str | None = "3"
    up: bool = True
    sent: list[RtpPacket] = field(default_factory=list)
    reports: list[tuple[int, int, int]] = field(default_factory=list)

    def send(self, data: bytes) -> bool:
        if not self.up:
            return False
        ext = HeaderExtensionsMap()
        ext.configure(
            RTCRtpReceiveParameters(
                headerExtensions=[
                    RTCRtpHeaderExtensionParameters(id=i, uri=u)
                    for u, i in self.extension_ids.items()
                ]
            )
        )
        self.sent.append(RtpPacket.parse(data, ext))
        return True

    def report(self, packets: int, octets: int, rtp_timestamp: int) -> None:
        self.reports.append((packets, octets, rtp_timestamp))

    def media(self) -> list[RtpPacket]:
        return [p for p in self.sent if p.ssrc == self.ssrc]


class FakeProducer:
    def __init__(self) -> None:
        self.consumers: set[Consumer] = set()
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1


def ready_consumer(kind: str = "audio", **outlet: Any) -> tuple[Consumer, Any, RecordingOutlet]:
    c = Consumer("sub", "pub", kind, kind)
    p = FakeProducer()
    c.bind(p)  # type: ignore[arg-type]
    out = RecordingOutlet(**outlet)
    c.set_ready(out)
    c.resume()
    return c, p, out


def audio(c: Consumer, seq: int, ts: int, t: float, level: int | None = None) -> None:
    c.forward(seq, ts, 0, b"opus%d" % seq, True, level, t)


def test_nothing_is_forwarded_before_the_subscriber_is_ready_or_while_paused() -> None:
    c = Consumer("sub", "pub", "audio", "audio")
    c.bind(FakeProducer())  # type: ignore[arg-type]
    c.resume()
    audio(c, 1, 0, 0.0)
    out = RecordingOutlet()
    c.set_ready(out)
    c.pause()
    audio(c, 2, 960, 0.02)
    assert out.sent == [] and c.packets_offered == 0


def test_the_payload_goes_out_byte_for_byte_under_the_subscribers_ssrc_type_and_mid() -> None:
    c, _, out = ready_consumer("audio")
    c.forward(7000, 123456, 0, b"\xfc\x01\x02opus", True, 0x80 | 30, 0.0)
    (p,) = out.sent
    assert p.payload == b"\xfc\x01\x02opus"
    assert p.ssrc == out.ssrc and p.payload_type == out.payload_type
    assert p.extensions.mid == "3"
    assert c.packets_sent == 1 and c.bytes_sent == len(b"\xfc\x01\x02opus")


def test_the_publishers_audio_level_reaches_subscribers_that_negotiated_it() -> None:
    c, _, out = ready_consumer("audio", extension_ids={MID_URI: 9, AUDIO_LEVEL_URI: 1})
    audio(c, 1, 0, 0.0, level=0x80 | 42)
    assert out.sent[0].extensions.audio_level == (True, 42)
    assert out.sent[0].extensions.mid == "3"


def test_numbering_continues_across_a_pause_and_time_advances_by_the_real_gap() -> None:
    c, _, out = ready_consumer()
    for i in range(3):
        audio(c, 500 + i, 5000 + 960 * i, i * 0.02)
    c.pause()
    audio(c, 503, 5000 + 960 * 3, 0.06)  # not forwarded: paused
    c.resume()
    audio(c, 553, 5000 + 960 * 53, 1.04)  # one second after the last one out
    seqs = [p.sequence_number for p in out.sent]
    stamps = [p.timestamp for p in out.sent]
    assert [(s - seqs[0]) & 0xFFFF for s in seqs] == [0, 1, 2, 3]  # no gap for the pause
    assert stamps[1] - stamps[0] == 960
    assert abs(((stamps[3] - stamps[2]) & 0xFFFFFFFF) - 48000) <= 1  # 1 s at 48 kHz
    assert out.sent[3].marker == 1  # a new talkspurt


def test_numbering_never_goes_back_when_the_publisher_reconnects_with_a_new_producer() -> None:
    c, _, out = ready_consumer()
    for i in range(5):
        audio(c, 40_000 + i, 900_000 + 960 * i, i * 0.02)
    c.bind(FakeProducer())  # type: ignore[arg-type]
    for i in range(3):  # the new connection numbers from scratch
        audio(c, 12 + i, 960 * i, 0.5 + i * 0.02)
    seqs = [(p.sequence_number - out.sent[0].sequence_number) & 0xFFFF for p in out.sent]
    stamps = [(p.timestamp - out.sent[0].timestamp) & 0xFFFFFFFF for p in out.sent]
    assert seqs == list(range(8))
    assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False))


def test_a_gap_from_the_publisher_is_kept_and_a_late_packet_fills_it() -> None:
    c, _, out = ready_consumer()
    audio(c, 10, 0, 0.0)
    audio(c, 12, 1920, 0.04)  # 11 lost on the way in: the subscriber must see the hole
    audio(c, 11, 960, 0.05)  # the server's NACK brought it back
    first = out.sent[0].sequence_number
    assert [(p.sequence_number - first) & 0xFFFF for p in out.sent] == [0, 2, 1]
    assert out.sent[2].payload == b"opus11"


def test_a_packet_reordered_from_before_the_run_is_dropped() -> None:
    c, _, out = ready_consumer()
    audio(c, 100, 0, 0.0)
    audio(c, 99, 0, 0.01)
    assert len(out.sent) == 1 and c.packets_dropped == 1


def test_video_waits_for_a_keyframe_and_asks_the_publisher_for_one() -> None:
    c, p, out = ready_consumer("video")
    c.forward(1, 0, 1, b"delta", False, None, 0.0)
    assert out.sent == [] and p.keyframe_requests >= 1
    c.forward(2, 3000, 0, b"key-1", True, None, 0.05)
    c.forward(3, 3000, 1, b"key-2", False, None, 0.05)
    c.forward(4, 6000, 1, b"delta", False, None, 0.1)
    assert [x.payload for x in out.sent] == [b"key-1", b"key-2", b"delta"]


def test_a_nack_is_answered_over_rtx_with_the_original_sequence_number() -> None:
    c, _, out = ready_consumer("video")
    c.forward(1, 0, 0, b"key", True, None, 0.0)
    c.forward(2, 0, 1, b"end", False, None, 0.0)
    lost = out.sent[1]
    c.retransmit(lost.sequence_number)
    rtx = out.sent[-1]
    assert rtx.ssrc == out.rtx_ssrc and rtx.payload_type == out.rtx_payload_type
    assert rtx.payload[:2] == lost.sequence_number.to_bytes(2, "big")
    assert rtx.payload[2:] == b"end" and rtx.timestamp == lost.timestamp and rtx.marker == 1
    c.retransmit((lost.sequence_number + 500) & 0xFFFF)  # never sent: nothing to answer
    assert len(out.sent) == 3 and c.packets_retransmitted == 1


def test_a_paused_consumer_answers_no_nack() -> None:
    c, _, out = ready_consumer("video")
    c.forward(1, 0, 1, b"key", True, None, 0.0)
    c.pause()
    c.retransmit(out.sent[0].sequence_number)
    assert len(out.sent) == 1 and c.packets_retransmitted == 0


def test_without_rtx_a_nacked_packet_is_sent_again_as_it_was() -> None:
    c, _, out = ready_consumer("video", rtx_payload_type=None)
    c.forward(1, 0, 1, b"key", True, None, 0.0)
    c.retransmit(out.sent[0].sequence_number)
    again = out.sent[-1]
    assert (again.ssrc, again.sequence_number, again.payload) == (
        out.ssrc,
        out.sent[0].sequence_number,
        b"key",
    )


def test_packets_the_connection_cannot_take_are_counted_as_dropped() -> None:
    c, _, out = ready_consumer()
    out.up = False
    audio(c, 1, 0, 0.0)
    assert c.packets_offered == 1 and c.packets_dropped == 1 and c.packets_sent == 0


def test_the_senders_reports_get_the_counts_and_a_current_timestamp() -> None:
    c, _, out = ready_consumer()
    audio(c, 1, 0, 1.0)
    audio(c, 2, 960, 1.02)
    audio(c, 3, 1920, 1.5)
    assert out.reports[0][0] == 1
    assert out.reports[-1] == (3, c.bytes_sent, out.sent[-1].timestamp)


def test_a_closed_consumer_forwards_nothing_and_ends_its_track() -> None:
    c, p, out = ready_consumer()
    c.close()
    audio(c, 1, 0, 0.0)
    assert out.sent == [] and c not in p.consumers


async def test_the_senders_track_waits_until_the_consumer_closes_then_ends() -> None:
    import asyncio

    import pytest
    from aiortc.mediastreams import MediaStreamError

    c, _, _ = ready_consumer("video")
    waiting = asyncio.ensure_future(c.track.recv())
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing ever comes out: packets bypass the track
    c.close()
    with pytest.raises(MediaStreamError):
        await waiting
    with pytest.raises(MediaStreamError):
        await c.track.recv()
