"""Read a large picture a strip of rows at a time, so cutting it into tiles needs bounded memory.

Binary PPM and PGM (``P6``/``P5``, 8 bits) are read straight from the file, one strip at a time:
memory stays at a few strips whatever the picture's size. Every other format OpenCV reads
(JPEG, PNG, TIFF, WebP...) is decoded whole, because OpenCV has no strip-wise reader: that takes
width x height x 3 bytes, and OpenCV refuses pictures above ``CV_IO_MAX_IMAGE_PIXELS`` pixels
(2^30 unless set in the environment). Convert those to PPM first; ``vips copy scan.tif scan.ppm``
does it in streaming fashion.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ..errors import SourceError
from . import codec
from .imageinfo import NotAnImage, sniff

OPENCV_PIXEL_LIMIT = 1 << 30  # OpenCV's default CV_IO_MAX_IMAGE_PIXELS
_PNM_CHANNELS = {b"P5": 1, b"P6": 3}


class PnmRaster:
    """A binary PGM/PPM file read strip by strip; ``strip`` returns BGR rows like OpenCV does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "rb")
        try:
            self.width, self.height, self.channels, self.offset = _pnm_header(self._file, path)
        except BaseException:
            self._file.close()
            raise
        expected = self.offset + self.width * self.height * self.channels
        if os.fstat(self._file.fileno()).st_size < expected:
            self._file.close()
            raise SourceError(f"truncated: {self.width}x{self.height} pixels need {expected} bytes", path)

    def strip(self, top: int, bottom: int):
        """Rows ``top`` to ``bottom`` (exclusive) as a ``(rows, width, 3)`` uint8 BGR array."""
        np, cv2 = codec.np(), codec.cv()
        row_bytes = self.width * self.channels
        data = np.empty((bottom - top) * row_bytes, dtype=np.uint8)
        self._file.seek(self.offset + top * row_bytes)
        if self._file.readinto(data) != data.size:
            raise SourceError(f"truncated at row {top}", self.path)
        rows = data.reshape(bottom - top, self.width, self.channels)
        return cv2.cvtColor(rows, cv2.COLOR_GRAY2BGR if self.channels == 1 else cv2.COLOR_RGB2BGR)

    def close(self) -> None:
        self._file.close()


class DecodedRaster:
    """A picture OpenCV decodes whole (no strip reader exists for it): memory is the whole picture."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _check_opencv_limit(path)
        cv2 = codec.cv()
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if pixels is None:
            raise SourceError(
                "OpenCV cannot read it (not an image, corrupt, or above its CV_IO_MAX_IMAGE_PIXELS limit);"
                " convert it to a binary PPM, which dzbuild reads in strips",
                path,
            )
        self._pixels = pixels
        self.height, self.width = pixels.shape[:2]

    def strip(self, top: int, bottom: int):
        return self._pixels[top:bottom]

    def close(self) -> None:
        self._pixels = None


def open_raster(path: Path | str):
    """A strip reader for ``path``: streaming for binary PPM/PGM, a whole decode otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            magic = handle.read(2)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", path) from None
    if magic in _PNM_CHANNELS:
        return PnmRaster(path)
    if magic in (b"P1", b"P2", b"P3", b"P4", b"P7"):
        raise SourceError("only binary 8-bit PGM (P5) and PPM (P6) are read; convert this PNM to one of them", path)
    return DecodedRaster(path)


def opencv_pixel_limit() -> int:
    try:
        return int(os.environ.get("CV_IO_MAX_IMAGE_PIXELS", OPENCV_PIXEL_LIMIT))
    except ValueError:
        return OPENCV_PIXEL_LIMIT


class PictureConverted(UserWarning):
    """A picture was not 8-bit RGB: ``ingest`` says what it did to it; seen by whoever runs the ingest."""


def _check_opencv_limit(path: Path) -> None:
    """Say why a huge JPEG/PNG/WebP cannot be read, instead of OpenCV's silent None; say what
    decoding to 8-bit colour will do to a 16-bit picture or one with alpha."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)  # the frame header follows EXIF and ICC segments
    try:
        info = sniff(head)
    except (NotAnImage, IndexError):
        return
    if info.bit_depth > 8 or info.channels in (2, 4):
        done = [f"{info.bit_depth}-bit channels scaled to 8 bits"] if info.bit_depth > 8 else []
        if info.channels in (2, 4):
            done.append("CMYK converted to RGB" if info.codec == "jpg" else "its alpha channel dropped (not blended)")
        warnings.warn(PictureConverted(f"{path}: tiles cut with {' and '.join(done)}"), stacklevel=2)
    limit = opencv_pixel_limit()
    if info.width * info.height > limit:
        raise SourceError(
            f"is {info.width}x{info.height} = {info.width * info.height} pixels, above OpenCV's limit of {limit}"
            " (CV_IO_MAX_IMAGE_PIXELS), and OpenCV decodes it whole: convert it to a binary PPM"
            " (e.g. `vips copy` it to .ppm), which dzbuild reads in strips",
            path,
        )


def _pnm_header(handle, path: Path) -> tuple[int, int, int, int]:
    """Parse ``P5``/``P6`` header tokens (comments allowed); return width, height, channels, data offset."""
    head = handle.read(4096)
    tokens: list[bytes] = []
    pos = 2
    while len(tokens) < 3:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if head[pos : pos + 1] == b"#":
            pos = head.find(b"\n", pos)
            if pos < 0:
                break
            continue
        end = pos
        while end < len(head) and head[end : end + 1].isdigit():
            end += 1
        if end == pos or end >= len(head):
            break
        tokens.append(head[pos:end])
        pos = end
    if len(tokens) < 3 or not head[pos : pos + 1].isspace():
        raise SourceError("corrupt PNM header", path)
    width, height, maxval = (int(token) for token in tokens)
    if width < 1 or height < 1:
        raise SourceError(f"has no pixels ({width}x{height})", path)
    if maxval != 255:
        raise SourceError(f"has {maxval} as its maximum value; only 8-bit PNM (255) is read", path)
    return width, height, _PNM_CHANNELS[head[:2]], pos + 1
