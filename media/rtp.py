"""RTP as the forwarder needs it: keyframe starts, header writing, retransmission history.

Pure functions and small value objects, no aiortc and no I/O, so that the per-packet
path is cheap and tested on its own. A forwarded packet keeps the publisher's payload
byte for byte; only the header is written anew per subscriber (SSRC, payload type,
sequence number, timestamp, and the header extensions the subscriber negotiated), as
mediasoup's ``SimpleConsumer`` does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

HEADER = struct.Struct("!BBHII")
"""V=2 with the extension bit, M|PT, sequence number, timestamp, SSRC."""
SEQ = struct.Struct("!H")
HISTORY_SIZE = 1024
"""Packets kept per video consumer for retransmission (about 5 s of 640x480 VP8)."""

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def vp8_keyframe_start(payload: bytes) -> bool:
    """Whether a VP8 RTP payload (RFC 7741) starts a key frame.

    The payload descriptor's S bit and partition index 0 mark a frame's first packet;
    bit 0 of the VP8 payload header that follows the descriptor is 0 for a key frame.
    """
    n = len(payload)
    if n < 2:
        return False
    b0 = payload[0]
    if not b0 & 0x10 or b0 & 0x07:  # not the start of partition 0
        return False
    pos = 1
    if b0 & 0x80:  # X: extension byte
        x = payload[1]
        pos = 2
        if x & 0x80:  # I: picture id, 7 or 15 bits
            if pos >= n:
                return False
            pos += 2 if payload[pos] & 0x80 else 1
        if x & 0x40:  # L: TL0PICIDX
            pos += 1
        if x & 0x30:  # T or K: TID/KEYIDX byte
            pos += 1
    return pos < n and not payload[pos] & 0x01


def h264_keyframe_start(payload: bytes) -> bool:
    """Whether an H.264 RTP payload (RFC 6184, packetization-mode 1) starts a keyframe:
    an IDR slice or an SPS, alone, in a STAP-A, or as the first fragment of an FU-A."""
    if not payload:
        return False
    nal = payload[0] & 0x1F
    if nal in (5, 7):
        return True
    if nal == 24:  # STAP-A: 16-bit size, then each NAL unit
        pos = 1
        while pos + 2 < len(payload):
            size = (payload[pos] << 8) | payload[pos + 1]
            if payload[pos + 2] & 0x1F in (5, 7):
                return True
            pos += 2 + size
        return False
    if nal == 28 and len(payload) > 1:  # FU-A: start bit and the fragmented NAL's type
        return bool(payload[1] & 0x80) and (payload[1] & 0x1F) in (5, 7)
    return False


def keyframe_detector(mime_type: str) -> Callable[[bytes], bool] | None:
    """The keyframe-start test for a video codec (None: every packet may start a run)."""
    name = mime_type.lower()
    if name == "video/vp8":
        return vp8_keyframe_start
    if name == "video/h264":
        return h264_keyframe_start
    return None


def extension_block(mid_id: int | None, mid: str | None) -> bytes:
    """The one-byte header extension block (RFC 8285) that carries the MID, or b"".

    The MID is constant per subscriber track, so the block is built once. Without any
    extension the packet has no block (and the X bit is cleared by ``header``).
    """
    if not mid_id or not mid:
        return b""
    value = mid.encode()[:16]
    body = bytes([(mid_id << 4) | (len(value) - 1)]) + value
    body += b"\x00" * (-len(body) % 4)
    return b"\xbe\xde" + SEQ.pack(len(body) // 4) + body


def with_audio_level(mid_id: int | None, mid: str | None, level_id: int, level: int) -> bytes:
    """The extension block with the MID and the publisher's audio level byte."""
    body = b""
    if mid_id and mid:
        value = mid.encode()[:16]
        body = bytes([(mid_id << 4) | (len(value) - 1)]) + value
    body += bytes([level_id << 4, level & 0xFF])
    body += b"\x00" * (-len(body) % 4)
    return b"\xbe\xde" + SEQ.pack(len(body) // 4) + body


def header(ext: bytes, marker: int, pt: int, seq: int, ts: int, ssrc: int) -> bytes:
    """The 12-byte fixed header (with the X bit when ``ext`` is not empty) and ``ext``."""
    return HEADER.pack(0x90 if ext else 0x80, (marker << 7) | pt, seq, ts, ssrc) + ext


def seq_newer(a: int, b: int) -> bool:
    """Whether 16-bit sequence number ``a`` comes after ``b`` (RFC 1982 arithmetic)."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000
