"""Writing and removing files so that a reader never sees half of one.

Every temporary name dzbuild makes carries ``PARTIAL_MARK``, so that the next run, ``dzbuild
check`` and the site's output scan can recognise (and remove) what an interrupted run left.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

PARTIAL_MARK = ".partial-"
# ``partial_path`` names (a pid), ``retract`` names and vacuum's scratch link: nothing a person names a file
_PARTIAL_NAME = re.compile(r"\..+" + re.escape(PARTIAL_MARK) + r"(?:[0-9]+|retracted|vacuum)")


def partial_path(path: Path) -> Path:
    """The temporary name under which ``path`` is assembled before it is renamed into place."""
    return path.with_name(f".{path.name}{PARTIAL_MARK}{os.getpid()}")


def write_atomic(path: Path, chunks, durable: bool = False) -> None:
    """Write ``chunks`` (bytes or str pieces) under a temporary name and rename it into place.

    ``durable`` flushes the file to disk before the rename: records that say what is published
    must survive a power cut; generated pages are simply written again by the next build.
    """
    tmp = partial_path(path)
    try:
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk or Ctrl-C: the half-written file goes (a kill leaves it to sweep)
        tmp.unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already holds exactly these bytes; keeps mtimes stable."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, [data])
    return True


def remove_path(path: Path) -> None:
    """Remove a file, a link or a whole folder; nothing to remove is not an error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def retract(folders: list[Path]) -> list[Path]:
    """Remove unpublished version folders, each first renamed to a partial name in one step."""
    removed = []
    for folder in folders:
        if folder.is_dir():
            aside = folder.with_name(f".{folder.name}{PARTIAL_MARK}retracted")
            remove_path(aside)
            os.rename(folder, aside)
            remove_path(aside)
            removed.append(folder)
    return removed


def is_partial(name: str) -> bool:
    """Whether ``name`` is a temporary name dzbuild made (``.NAME.partial-PID`` and its kin)."""
    return _PARTIAL_NAME.fullmatch(name) is not None


def sweep_partials(folder: Path) -> list[Path]:
    """Remove what an interrupted run left in ``folder`` (not below it); the caller holds the lock."""
    try:
        with os.scandir(folder) as entries:
            leftovers = [Path(entry.path) for entry in entries if is_partial(entry.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for path in leftovers:
        remove_path(path)
    return leftovers
