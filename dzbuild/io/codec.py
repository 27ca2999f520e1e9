"""Decoding, encoding and exact 2x halving with OpenCV, imported only when pixels are touched.

Tiles are ``uint8`` BGR arrays (OpenCV's order). Encoding is deterministic for a given OpenCV
build, which is what makes incremental and from-scratch builds byte-identical. EXIF orientation
is ignored: tiles are stored upright, and honouring it costs a third of the decode time.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from ..errors import SourceError
from ..heavy import cv, np
from .imageinfo import ImageInfo, NotAnImage, sniff

_CODEC_OF_SUFFIX = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp"}


def _jpeg_tail(data: bytes, path) -> None:
    """No end-of-image marker near the end: the file was cut short, or something was appended to it."""
    end = data.rfind(b"\xff\xd9")
    if end <= 2:
        raise SourceError("truncated JPEG: no end-of-image marker", path)
    extra = len(data) - end - 2
    raise SourceError(f"has {extra} bytes after its JPEG end-of-image marker; refused: save the tile again", path)


def check_tile(data: bytes, path: Path | str, expected: tuple[int, int] | None = None) -> ImageInfo:
    """Check a source tile's header and completeness; raise SourceError naming the file."""
    try:
        info = sniff(data)
    except (NotAnImage, IndexError) as exc:
        raise SourceError(str(exc), path) from None
    suffix = str(path).rpartition(".")[2].lower()  # runs per tile: no Path object
    named = _CODEC_OF_SUFFIX.get(suffix)
    if named is not None and info.codec != named:
        raise SourceError(f"is a {info.codec.upper()} file named .{suffix}", path)
    if info.codec == "jpg" and b"\xff\xd9" not in data[-32:]:  # end-of-image, maybe followed by padding
        _jpeg_tail(data, path)
    if info.codec == "png" and not data.endswith(b"IEND\xaeB`\x82"):
        raise SourceError("truncated PNG: no IEND chunk", path)
    if info.codec == "webp" and len(data) < 8 + int.from_bytes(data[4:8], "little"):
        raise SourceError("truncated WebP: shorter than its RIFF header says", path)
    if info.channels in (2, 4):
        what = "CMYK" if info.codec == "jpg" else "an alpha channel"
        raise SourceError(f"has {what}; refused: tiles must be RGB or greyscale (flatten it first)", path)
    if info.bit_depth > 8:
        raise SourceError(f"is {info.bit_depth}-bit; refused: save tiles with 8 bits per channel", path)
    if expected is not None and (info.width, info.height) != tuple(expected):
        w, h = expected
        hint = " (row and column swapped?)" if (info.height, info.width) == (w, h) else ""
        raise SourceError(f"is {info.width}x{info.height} pixels but the grid expects {w}x{h}{hint}", path)
    return info


def decode(data: bytes, path: Path | str = "tile"):
    """Full-resolution BGR pixels (greyscale tiles become three equal channels)."""
    cv2 = cv()
    return _imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION, path)


def _imdecode(data: bytes, flag: int, path: Path | str):
    """Decode, refusing what libjpeg only warns about: OpenCV returns an image for corrupt entropy data."""
    buffer = np().frombuffer(data, dtype="uint8")
    if data[:2] != b"\xff\xd8":
        pixels, warning = cv().imdecode(buffer, flag), ""
    elif _captured_stderr is not None:  # stderr already points at the scratch file
        scratch = _warnings_file(os.getpid())
        stray = _drain(scratch)  # written by something else since the last decode: the user's
        if stray:
            os.write(_captured_stderr, stray.encode())
        pixels = cv().imdecode(buffer, flag)
        warning = _drain(scratch)
    else:
        with _stderr_captured() as captured:
            pixels = cv().imdecode(buffer, flag)
        warning = captured()
    if pixels is None:
        raise SourceError("cannot be decoded (corrupt image data)", path)
    if warning:
        raise SourceError(f"is corrupt (libjpeg: {warning.splitlines()[0].strip()})", path)
    return pixels


@lru_cache(maxsize=None)
def _warnings_file(pid: int) -> int:
    """One scratch file per process (a forked worker must not share its parent's)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("dzbuild-libjpeg")
    with tempfile.TemporaryFile() as handle:  # pragma: no cover - not Linux
        return os.dup(handle.fileno())


_captured_stderr: int | None = None  # the real stderr while ``libjpeg_warnings_captured`` holds fd 2


@contextmanager
def libjpeg_warnings_captured():
    """Capture libjpeg's warnings for a whole batch of decodes rather than one decode at a time.

    A worker decodes thousands of tiles: redirecting stderr once saves three system calls per
    tile. Each decode still checks the scratch file before and after, so a warning names its
    own tile and anything else written to stderr meanwhile is passed on to the real one.
    """
    global _captured_stderr
    if _captured_stderr is not None:
        yield
        return
    with _stderr_captured(keep=True) as saved:
        if saved is None:  # no stderr to redirect: each decode manages on its own
            yield
            return
        _captured_stderr = saved
        try:
            yield
        finally:
            stray = _drain(_warnings_file(os.getpid()))
            if stray:
                os.write(saved, stray.encode())
            _captured_stderr = None


@contextmanager
def _stderr_captured(keep: bool = False):
    """Send file descriptor 2 to a scratch file while libjpeg runs: its warnings go there, not to the user.

    Yields a function returning what was written (with ``keep``: a duplicate of the real
    stderr, or None without one). Costs a few microseconds per tile.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to capture
        yield None if keep else (lambda: "")
        return
    scratch = _warnings_file(os.getpid())
    os.dup2(scratch, 2)
    try:
        yield saved if keep else (lambda: _drain(scratch))
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _drain(scratch: int) -> str:
    size = os.fstat(scratch).st_size
    if not size:
        return ""
    text = os.pread(scratch, size, 0).decode(errors="replace")
    os.ftruncate(scratch, 0)
    os.lseek(scratch, 0, os.SEEK_SET)
    return text


def decode_half(data: bytes, path: Path | str = "tile"):
    """Half-resolution pixels straight from the JPEG DCT (libjpeg scaled decoding, rounding up)."""
    cv2 = cv()
    if data[:2] != b"\xff\xd8":
        return halve(decode(data, path))
    return _imdecode(data, cv2.IMREAD_REDUCED_COLOR_2 | cv2.IMREAD_IGNORE_ORIENTATION, path)


def halve(pixels):
    """Exact 2x2 mean, rounding half up; an odd last row or column is averaged with itself."""
    cv2 = cv()
    height, width = pixels.shape[:2]
    if width % 2 or height % 2:
        pixels = cv2.copyMakeBorder(pixels, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(pixels, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)


def encode(pixels, fmt: str, quality: int) -> bytes:
    cv2 = cv()
    if fmt == "jpg":
        ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    elif fmt == "png":
        ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    elif fmt == "webp":
        ok, buf = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, quality])
    else:
        raise ValueError(f"unknown tile format {fmt!r}")
    if not ok:
        raise ValueError(f"OpenCV could not encode a {fmt} tile")
    return buf.tobytes()


def blank(width: int, height: int):
    """Black BGR pixels of ``width`` x ``height``, a canvas to paste decoded tiles into."""
    return np().zeros((height, width, 3), dtype="uint8")
