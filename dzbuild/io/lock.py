"""One build at a time per output folder: an advisory lock that names its holder."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockedError

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
def locked(folder: Path, keep_file: bool = True):
    """Hold ``folder/.dzbuild.lock`` for the duration; refuse at once if another process holds it.

    The kernel drops the lock when its holder dies, so a killed build never leaves it stuck. The
    file stays between runs: nothing is written to it, and re-creating a file costs this kind of
    disk more than locking one. Only when this call created ``folder`` and nothing else was put
    in it are the file and the folder removed again: a first build that fails leaves no trace.
    ``keep_file=False`` always removes the lock file, for folders that belong to the user
    (``ingest`` locks the image folder itself): one a killed run left goes with the next run.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = _acquire(path)
    _held.add(fd)
    try:
        yield path
    finally:
        _held.discard(fd)
        empty = created and os.listdir(folder) == [LOCK_NAME]  # a first build that failed early
        if empty or not keep_file:
            path.unlink(missing_ok=True)  # still holding it: nobody can lock a file that is going away
        os.close(fd)
        if empty:
            try:
                folder.rmdir()
            except OSError:
                pass


def holder_of(fd: int) -> str:
    """The pid holding an flock on the file behind ``fd``, from ``/proc/locks`` (Linux), else "unknown"."""
    st = os.fstat(fd)
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == inode:
                    return fields[4]
    except OSError:
        pass
    return "unknown"


def _acquire(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_of(fd)
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


def lock_holder(folder: Path) -> str | None:
    """The process id of whoever holds ``folder``'s lock now, or None; never creates the lock file."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_of(fd)
    finally:
        os.close(fd)  # closing drops a shared lock taken just now
    return None
