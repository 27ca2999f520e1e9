"""Which file of the output a preview URL names, and opening it without ever blocking.

The preview serves the output folder and nothing else: a path with a ``.`` or ``..`` segment
(percent-encoded or not) is refused, and a symbolic link is followed only when it ends inside the
output or dzbuild's cache. It serves regular files only: a FIFO, a socket or a device in the
output is refused rather than read (a FIFO would hold the request forever). The control files
``_headers`` and ``_redirects`` are read by the host and never served, however the URL spells
them (an encoded or doubled slash, a trailing slash, another case, a link to them).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

CONTROL_FILES = ("_headers", "_redirects")  # read by the host, never served


def resolve(output: Path, allowed: tuple[Path, ...], rel: str) -> Path | None:
    """The file or folder that the decoded URL path ``rel`` (below the output) names, or None if refused."""
    parts = rel.split("/")
    if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
        return None
    candidate = output.joinpath(*[part for part in parts if part])
    real = os.path.realpath(candidate)
    roots = [os.path.realpath(root) for root in allowed]
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        return None  # a symbolic link leading out of the output and the cache
    return candidate


def names_control_file(rel: str) -> bool:
    """Whether the decoded URL path ``rel`` spells a control file at the output's root, in any case."""
    parts = [part for part in rel.split("/") if part]
    return len(parts) == 1 and parts[0].casefold() in CONTROL_FILES


def open_regular(path: Path | str) -> BinaryIO | None:
    """``path`` open for reading if it is a regular file, None if it is anything else; never blocks.

    Raises ``OSError`` when it cannot be opened (missing, a name too long, a socket).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def file_identities(paths: tuple[Path, ...]) -> set[tuple[int, int]]:
    """(device, inode) of each existing file: another name of one of them is still that file."""
    found = set()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def identity(opened: BinaryIO) -> tuple[int, int]:
    st = os.fstat(opened.fileno())
    return (st.st_dev, st.st_ino)
