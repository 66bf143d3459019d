"""Checking a drawn signature before it goes into a sealed document.

The PNG comes from a browser canvas, so from an untrusted client: we check
the signature bytes, walk every chunk with its CRC up to IEND, and bound the
file size and the pixel dimensions, so that LibreOffice only ever sees a
well-formed, small image.
"""

from __future__ import annotations

import struct
import zlib

from .errors import SignatureImageInvalid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 512 * 1024
"""A canvas signature is tens of kilobytes; this leaves room, not abuse."""
MAX_SIGNATURE_PIXELS = (3000, 1500)
"""Largest width and height accepted."""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG after checking its structure; ``SignatureImageInvalid`` if not."""
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureImageInvalid(f"signature image over {MAX_SIGNATURE_BYTES} bytes")
    if not data.startswith(PNG_MAGIC):
        raise SignatureImageInvalid("the signature image is not a PNG")
    offset = len(PNG_MAGIC)
    size: tuple[int, int] | None = None
    while True:
        if offset + 8 > len(data):
            raise SignatureImageInvalid("the PNG is truncated")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 8 + length + 4
        if end > len(data):
            raise SignatureImageInvalid("the PNG is truncated")
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise SignatureImageInvalid(f"PNG chunk {kind!r} is corrupt")
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise SignatureImageInvalid("the PNG has no IHDR header")
            size = struct.unpack(">II", body[:8])
        if kind == b"IEND":
            return size
        offset = end


def validate_signature_png(data: bytes) -> tuple[int, int]:
    """Refuse anything but a small, well-formed, non-empty PNG; return its size."""
    width, height = png_size(data)
    if width == 0 or height == 0:
        raise SignatureImageInvalid("the signature image is empty")
    if width > MAX_SIGNATURE_PIXELS[0] or height > MAX_SIGNATURE_PIXELS[1]:
        raise SignatureImageInvalid(f"the signature image is too large ({width}x{height})")
    return width, height


def make_png(width: int, height: int, strokes: int = 3) -> bytes:
    """A small black-on-white PNG with diagonal strokes: a stand-in drawn signature
    for the demo and tests (a browser canvas produces the real ones)."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 for the scanline
        for x in range(width):
            ink = any(
                abs((x + s * width // strokes) % width - y * width // height) < 2
                for s in range(strokes)
            )
            row += b"\x00" if ink else b"\xff"
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
