"""Reading the small files people write by hand (``pyramid.json``, collection files, ``_headers``).

They come from outside, so they are read defensively: only a regular file is opened for reading
(a FIFO would hang the build, a link to ``/dev/zero`` would never end), and JSON is parsed
strictly (a key given twice, nesting deeper than any real file, a number of thousands of digits)
so every mistake becomes one ``ValueError`` with a message, never a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

MAX_BYTES = 16 * 1024 * 1024  # far above any real configuration file


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``; OSError, or ValueError saying what is wrong."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO opens at once, unread
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"key {key!r} is given twice")
        data[key] = value
    return data


def loads(text: str):
    """``json.loads`` that refuses duplicate keys, absurd nesting and huge numbers with a ValueError.

    A ``json.JSONDecodeError`` (a ValueError with ``lineno``) still comes through for syntax errors.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError) or "digits" not in str(exc):
            raise
        raise ValueError("a number has more than 4300 digits") from None
