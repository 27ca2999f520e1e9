"""HTTP byte ranges (RFC 9110, section 14) for the preview: one range answered with 206, so packs read by range work.

Only a single range is answered in part; a request for several ranges gets the whole file (200),
which the RFC allows and every range reader handles. A ``Range`` header that does not parse is
ignored (200, the whole file), as the RFC says; one that parses but starts past the end is not
satisfiable (416).
"""

from __future__ import annotations

import re
from typing import NamedTuple

SPEC = re.compile(r"bytes=[ \t]*([0-9]*)-([0-9]*)[ \t]*", re.IGNORECASE)
BEYOND = 1 << 64  # any position written with more digits than this has is past every file


class ByteRange(NamedTuple):
    start: int
    stop: int  # one past the last byte

    @property
    def length(self) -> int:
        return self.stop - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{size}"


class RangeNotSatisfiable(Exception):
    """The range starts at or past the end of the file (or asks for the last zero bytes): answer 416."""


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The part of a ``size``-byte file that ``header`` asks for; None for the whole file."""
    if header is None:
        return None
    match = SPEC.fullmatch(header.strip())
    if match is None:  # another unit, several ranges, or not a range at all
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # bytes=-N: the last N bytes
        suffix = position(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size)
    start = position(first)
    if last and position(last) < start:
        return None  # invalid: ignored, the whole file
    if start >= size:
        raise RangeNotSatisfiable
    stop = size if not last else min(size, position(last) + 1)
    return ByteRange(start, stop)


def position(digits: str) -> int:
    """A byte position; thousands of digits (past Python's int conversion limit) mean past the end."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 20 else BEYOND
