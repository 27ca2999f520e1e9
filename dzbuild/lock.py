"""One build at a time per output folder: an advisory lock that names its holder."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from .errors import LockedError

LOCK_NAME = ".dzbuild.lock"


@contextmanager
def locked(folder: Path):
    """Hold ``folder/.dzbuild.lock`` for the duration; refuse at once if another process holds it.

    The kernel drops the lock when its holder dies, so a killed build never leaves it stuck.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(f"another dzbuild (process {holder}) is building this folder; wait for it", path) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
