"""A Consumer's gate and timestamp line, without a network."""

from __future__ import annotations

import fractions
from typing import Any

import av

from media.consumer import QUEUE_FRAMES, Consumer

AUDIO = fractions.Fraction(1, 48000)
VIDEO = fractions.Fraction(1, 90000)


class FakeProducer:
    def __init__(self) -> None:
        self.consumers: set[Consumer] = set()
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1


def drain(c: Consumer) -> list[int]:
    out = []
    while not c.track.queue.empty():
        item = c.track.queue.get_nowait()
        assert item is not None
        packet: av.Packet = item[0]
        assert packet.pts is not None
        out.append(packet.pts)
    return out


def ready_consumer(kind: str = "audio") -> tuple[Consumer, Any]:
    c = Consumer("sub", "pub", kind, kind)
    p = FakeProducer()
    c.bind(p)  # type: ignore[arg-type]
    c.set_ready()
    c.resume()
    return c, p


def test_nothing_is_forwarded_before_the_subscriber_is_ready_or_while_paused() -> None:
    c = Consumer("sub", "pub", "audio", "audio")
    c.bind(FakeProducer())  # type: ignore[arg-type]
    c.resume()
    c.deliver(b"x", 0, AUDIO, True, 0.0)
    assert drain(c) == []
    c.set_ready()
    c.pause()
    c.deliver(b"x", 960, AUDIO, True, 0.02)
    assert drain(c) == []


def test_timestamps_continue_across_a_pause_advanced_by_the_real_gap() -> None:
    c, _ = ready_consumer()
    for i in range(3):
        c.deliver(b"x", 5000 + 960 * i, AUDIO, True, i * 0.02)
    before = drain(c)
    c.pause()
    c.deliver(b"x", 5000 + 960 * 3, AUDIO, True, 0.06)  # dropped: paused
    c.resume()
    c.deliver(b"x", 5000 + 960 * 53, AUDIO, True, 1.04)  # one second after the last one out
    after = drain(c)
    assert before == [0, 960, 1920]
    assert after[0] > before[-1]
    assert abs((after[0] - before[-1]) - 48000) <= 1  # 1 s of 48 kHz, no jump, no rewind


def test_timestamps_never_go_back_when_the_publisher_reconnects_with_a_new_producer() -> None:
    c, _ = ready_consumer()
    for i in range(5):
        c.deliver(b"x", 900_000 + 960 * i, AUDIO, True, i * 0.02)
    first = drain(c)
    fresh = FakeProducer()
    c.bind(fresh)  # type: ignore[arg-type]
    for i in range(3):  # the new connection starts its timeline at 0
        c.deliver(b"x", 960 * i, AUDIO, True, 0.5 + i * 0.02)
    second = drain(c)
    line = first + second
    assert all(b > a for a, b in zip(line, line[1:], strict=False))


def test_video_waits_for_a_keyframe_and_asks_the_publisher_for_one() -> None:
    c, p = ready_consumer("video")
    c.deliver(b"\x01delta", 0, VIDEO, False, 0.0)
    assert drain(c) == [] and p.keyframe_requests >= 1
    c.deliver(b"\x00key", 3000, VIDEO, True, 0.05)
    c.deliver(b"\x01delta", 6000, VIDEO, False, 0.1)
    assert len(drain(c)) == 2


def test_a_stalled_sender_drops_its_backlog_and_video_restarts_on_a_keyframe() -> None:
    c, _ = ready_consumer("video")
    c.deliver(b"\x00key", 0, VIDEO, True, 0.0)
    for i in range(1, QUEUE_FRAMES + 5):
        c.deliver(b"\x01d", 3000 * i, VIDEO, False, i * 0.05)
    assert c.frames_dropped == QUEUE_FRAMES
    assert c.track.queue.qsize() == 0  # waiting for a keyframe, not queueing deltas
