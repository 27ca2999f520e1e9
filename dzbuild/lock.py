"""One build at a time per output folder: an advisory lock that names its holder."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from .errors import LockedError

LOCK_NAME = ".dzbuild.lock"

_held: set[int] = set()  # descriptors of the locks this process holds


def _drop_in_child() -> None:
    """A forked worker closes its copy of the lock, so the lock dies with the build that took it.

    An ``flock`` belongs to the open file, which ``fork`` shares: without this, a worker orphaned
    by a killed build would keep the folder locked for as long as it lives.
    """
    for fd in _held:
        os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_drop_in_child)


@contextmanager
def locked(folder: Path):
    """Hold ``folder/.dzbuild.lock`` for the duration; refuse at once if another process holds it.

    The kernel drops the lock when its holder dies, so a killed build never leaves it stuck. The
    file is removed on release, and ``folder`` too if this call created it and it is still empty,
    so a build that fails before writing anything leaves the disk as it found it.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = _acquire(path)
    _held.add(fd)
    try:
        _name_holder(fd)
        yield path
    finally:
        _held.discard(fd)
        path.unlink(missing_ok=True)  # still holding it: nobody can lock a file that is going away
        os.close(fd)
        if created:
            try:
                folder.rmdir()
            except OSError:
                pass


def _name_holder(fd: int) -> None:
    """Write our pid for the message of a second build; on a full disk the lock still holds without it."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass


def _acquire(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            message = f"another dzbuild (process {holder}) is building this folder; wait for it"
            raise LockedError(message, path) from None
        if _is_current(fd, path):
            return fd
        os.close(fd)  # the previous holder removed this file while we opened it: lock the new one


def _is_current(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)
