"""Read an encoded tile's codec, pixel size and channels from its header, without decoding it.

Validation runs on every source tile, so it must cost microseconds, not a decode; and it must
not import OpenCV, which a no-op or a small patch never needs.
"""

from __future__ import annotations

import struct
from typing import NamedTuple


class ImageInfo(NamedTuple):
    codec: str  # "jpg", "png" or "webp"
    width: int
    height: int
    channels: int  # 1 grey, 3 colour, 4 colour with alpha or CMYK
    bit_depth: int


class NotAnImage(ValueError):
    """The bytes are not a complete header of a codec dzbuild reads."""


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}


def sniff(data: bytes) -> ImageInfo:
    """Return the header facts of a JPEG, PNG or WebP; raise NotAnImage for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise NotAnImage("not a JPEG, PNG or WebP file")


def _jpeg(data: bytes) -> ImageInfo:
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise NotAnImage("corrupt JPEG: bad marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _SOF_MARKERS:
            if pos + 10 > end:
                break
            precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 4)
            if width == 0 or height == 0:
                raise NotAnImage("corrupt JPEG: zero size")
            return ImageInfo("jpg", width, height, components, precision)
        if marker == 0xDA:
            break
        pos += 2 + length
    raise NotAnImage("truncated or corrupt JPEG: no frame header")


def _png(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise NotAnImage("truncated or corrupt PNG: no IHDR")
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    if colour not in _PNG_CHANNELS or width == 0 or height == 0:
        raise NotAnImage("corrupt PNG header")
    return ImageInfo("png", width, height, _PNG_CHANNELS[colour], depth)


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack_from("<HH", data, 26)
        return ImageInfo("webp", w & 0x3FFF, h & 0x3FFF, 3, 8)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4 if bits >> 28 & 1 else 3, 8)
    if chunk == b"VP8X" and len(data) >= 30:
        alpha = data[20] & 0x10
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("webp", w, h, 4 if alpha else 3, 8)
    raise NotAnImage("truncated or corrupt WebP header")
