"""Keyframe starts and headers at the RTP level, on packets aiortc's payloaders made."""

from __future__ import annotations

import fractions
from typing import Any

import av
import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from media.rtp import extension_block, h264_keyframe_start, header, seq_newer, vp8_keyframe_start

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


def vp8_frames(n: int) -> list[bytes]:
    enc: Any = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
    enc.time_base = fractions.Fraction(1, 20)
    enc.bit_rate = 900_000
    enc.gop_size = n
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rng = np.random.default_rng(0)
    out: list[bytes] = []
    for i in range(n):
        img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    return out


def test_only_the_first_packet_of_a_vp8_keyframe_starts_one() -> None:
    packer = get_encoder(VP8)
    starts = []
    for data in vp8_frames(3):
        packet = av.Packet(data)
        packet.pts, packet.time_base = 0, fractions.Fraction(1, 90000)
        payloads, _ = packer.pack(packet)
        assert len(payloads) > 1  # noise: several packets a frame
        starts.append([vp8_keyframe_start(p) for p in payloads])
    assert starts[0][0] and not any(starts[0][1:])
    assert not any(starts[1]) and not any(starts[2])


def test_h264_keyframes_start_with_an_sps_or_idr_alone_in_a_stap_a_or_an_fu_a() -> None:
    sps, idr, slice_ = b"\x67\x42\x00\x1f", b"\x65\x88\x84", b"\x41\x9a\x02"
    assert h264_keyframe_start(sps) and h264_keyframe_start(idr)
    assert not h264_keyframe_start(slice_)
    stap = b"\x18" + len(sps).to_bytes(2, "big") + sps + (3).to_bytes(2, "big") + b"\x68\xce\x38"
    assert h264_keyframe_start(stap)
    assert h264_keyframe_start(b"\x7c\x85" + b"x" * 10)  # FU-A, start, IDR
    assert not h264_keyframe_start(b"\x7c\x05" + b"x" * 10)  # FU-A, not the start
    assert not h264_keyframe_start(b"")


def test_a_written_header_parses_back_with_its_mid() -> None:
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters
    from aiortc.rtp import HeaderExtensionsMap

    ext = HeaderExtensionsMap()
    ext.configure(
        RTCRtpReceiveParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid")
            ]
        )
    )
    data = header(extension_block(4, "12"), 1, 120, 65535, 2**32 - 1, 99) + b"payload"
    p = RtpPacket.parse(data, ext)
    assert (p.marker, p.payload_type, p.sequence_number, p.timestamp, p.ssrc) == (
        1,
        120,
        65535,
        2**32 - 1,
        99,
    )
    assert p.extensions.mid == "12" and p.payload == b"payload"
    bare = RtpPacket.parse(header(b"", 0, 111, 1, 2, 3) + b"x")
    assert bare.payload == b"x"


def test_sequence_numbers_compare_across_the_wrap() -> None:
    assert seq_newer(1, 65535) and not seq_newer(65535, 1) and not seq_newer(5, 5)
