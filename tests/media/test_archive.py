"""The archive seam alone: Opus packets in, Ogg Opus out, cut to exact spans, no decoding
on the way in (the packets written are the packets received, byte for byte)."""

from __future__ import annotations

import fractions
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from media.archive import (
    RATE,
    SILENCE,
    ArchiveFeed,
    ArchivePiece,
    cut,
    duration,
    ogg_crc,
    read_packets,
)
from media.tap import Speaker, TapStamp

JOINT = TapStamp(Speaker("p1", "甲", "party"), None, frozenset())
CAUCUS = TapStamp(Speaker("p1", "甲", "party"), "k1", frozenset())


def opus_packets(seconds: float, freq: float = 440.0) -> list[bytes]:
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format, enc.bit_rate = RATE, "mono", "s16", 32_000
    t = np.arange(int(seconds * RATE)) / RATE
    x = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
    out: list[bytes] = []
    for i in range(0, len(x), 960):
        f = av.AudioFrame.from_ndarray(x[i : i + 960].reshape(1, -1), format="s16", layout="mono")
        f.sample_rate, f.pts, f.time_base = RATE, i, fractions.Fraction(1, RATE)
        out += [bytes(p) for p in enc.encode(f)]
    return out


class Sink:
    def __init__(self) -> None:
        self.pieces: list[ArchivePiece] = []

    def write(self, piece: ArchivePiece) -> None:
        self.pieces.append(piece)

    def stream(self, segment_id: str) -> bytes:
        return b"".join(p.data for p in self.pieces if p.segment_id == segment_id)


def decoded_samples(data: bytes, tmp: Path) -> int:
    f = tmp / "x.ogg"
    f.write_bytes(data)
    with av.open(str(f)) as c:
        return sum(fr.samples for fr in c.decode(audio=0))


def test_ogg_crc_is_oggs_polynomial() -> None:
    # The capture pattern's CRC as computed by libogg (non-reflected 0x04c11db7).
    assert ogg_crc(b"OggS") == 0x5FB0A94F


def test_packets_are_written_unchanged_with_true_granules(tmp_path: Path) -> None:
    pkts = opus_packets(3.0)
    sink = Sink()
    feed = ArchiveFeed(sink=sink, session_id="s", participant_id="p1", clock_origin=100.0)
    for i, p in enumerate(pkts):
        feed.feed(i, 5000 + i * 960, p, 110.0 + i * 0.02, JOINT)
    feed.feed(3, 5000 + 3 * 960, pkts[3], 110.5, JOINT)  # a duplicate: dropped
    feed.close()
    assert {p.segment_id for p in sink.pieces} == {sink.pieces[0].segment_id}
    assert sink.pieces[0].first and sink.pieces[-1].final
    assert sink.pieces[0].start == pytest.approx(10.0)
    data = sink.stream(sink.pieces[0].segment_id)
    assert read_packets(data) == pkts  # no re-encoding
    assert duration(data) == pytest.approx(3.0)
    assert decoded_samples(data, tmp_path) == len(pkts) * 960
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            str(tmp_path / "x.ogg"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "opus" and not probe.stderr  # no CRC or framing errors


def test_a_timestamp_gap_is_filled_with_silence_so_time_stays_true() -> None:
    pkts = opus_packets(1.0)
    sink = Sink()
    feed = ArchiveFeed(sink=sink, session_id="s", participant_id="p1", clock_origin=0.0)
    for i, p in enumerate(pkts):
        if i in (10, 11, 12):
            continue  # lost on the way in
        feed.feed(i, i * 960, p, i * 0.02, JOINT)
    feed.close()
    got = read_packets(sink.stream(sink.pieces[0].segment_id))
    assert got[10:13] == [SILENCE] * 3 and len(got) == len(pkts)


def test_a_move_into_a_caucus_starts_a_segment_filed_under_it() -> None:
    pkts = opus_packets(2.0)
    sink = Sink()
    feed = ArchiveFeed(sink=sink, session_id="s", participant_id="p1", clock_origin=0.0)
    for i, p in enumerate(pkts):
        feed.feed(i, i * 960, p, i * 0.02, JOINT if i < 50 else CAUCUS)
    feed.pause()
    segs = list(dict.fromkeys(p.segment_id for p in sink.pieces))
    assert len(segs) == 2
    first, second = ([p for p in sink.pieces if p.segment_id == s] for s in segs)
    assert {p.stamp.caucus_id for p in first} == {None}
    assert {p.stamp.caucus_id for p in second} == {"k1"}
    assert second[0].start == pytest.approx(1.0)
    assert duration(sink.stream(segs[1])) == pytest.approx(1.0)


def test_a_cut_is_exactly_its_span(tmp_path: Path) -> None:
    pkts = opus_packets(5.0)
    sink = Sink()
    feed = ArchiveFeed(sink=sink, session_id="s", participant_id="p1", clock_origin=0.0)
    for i, p in enumerate(pkts):
        feed.feed(i, i * 960, p, 20.0 + i * 0.02, JOINT)
    feed.close()
    data = sink.stream(sink.pieces[0].segment_id)
    part = cut(data, 20.0, 21.013, 23.5)
    assert duration(part) == pytest.approx(2.487, abs=1 / RATE)
    assert decoded_samples(part, tmp_path) == round(2.487 * RATE)
    assert cut(data, 20.0, 30.0, 31.0) == b""
