"""Put the built pyramids into the output folder, and write generated files only when they change.

The engine builds each image in the cache (``CACHE/tree/REL``), next to its state files. The
output gets the same tree without the state (no dot-files): version folders ``v{n}`` are linked
in once, under a temporary name renamed into place, and are never touched again because
published versions never change. So deleting the output costs one re-link, not a rebuild.

Every output file is placed by the site's storage plugin (``storage.link(cache file, output
path)``): hard links share the cache's inodes, copies share nothing, symbolic links are relative
links into the cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..io.files import PARTIAL_MARK, remove_path, sweep_partials
from ..link import LinkBatch
from ..pyramid.sources import version_number


def mirror_tree(src: Path, dst: Path, storage) -> int:
    """Mirror the visible part of ``src`` into ``dst``; return how many version folders were added."""
    added = 0
    dst.mkdir(parents=True, exist_ok=True)
    _drop_removed_versions(src, dst)
    with os.scandir(src) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            target = dst / entry.name
            if entry.is_dir(follow_symlinks=False):
                if version_number(entry.name) is not None:
                    added += add_version(Path(entry.path), target, storage)
                else:
                    added += mirror_tree(Path(entry.path), target, storage)
            elif not _same_file(entry.path, target):
                tmp = target.with_name(f".{entry.name}{PARTIAL_MARK}{os.getpid()}")
                tmp.unlink(missing_ok=True)
                try:
                    storage.link(entry.path, str(tmp))
                    os.replace(tmp, target)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
    return added


def _drop_removed_versions(src: Path, dst: Path) -> None:
    """A version folder gone from the cache (``dzbuild vacuum``, ``--rebuild``) leaves the output too,
    and so does whatever an interrupted build left half-made here."""
    sweep_partials(dst)
    for entry in os.scandir(dst):
        is_version = version_number(entry.name) is not None and entry.is_dir(follow_symlinks=False)
        if is_version and not (src / entry.name).exists():
            shutil.rmtree(entry.path)


def add_version(src: Path, target: Path, storage) -> int:
    """Link a whole version folder in under a temporary name, then rename it into place."""
    if target.exists():
        return 0  # immutable: linked in full by an earlier build
    tmp = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        batch = LinkBatch(storage)
        _link_all(src, tmp, batch)
        batch.flush()
        os.rename(tmp, target)
    except BaseException:  # a full disk or Ctrl-C: nothing half-linked stays in the output
        remove_path(tmp)
        raise
    return 1


def _link_all(src: Path, dst: Path, batch: LinkBatch) -> None:
    """Link every file of ``src`` to the same name in ``dst`` (names kept: the storage's ``link_into``)."""
    dst.mkdir()
    with os.scandir(src) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _link_all(Path(entry.path), dst / entry.name, batch)
            else:
                batch.link(entry.path, f"{dst}/{entry.name}")


def _same_file(src: str, dst: Path) -> bool:
    try:
        a, b = os.stat(src), os.stat(dst)
    except FileNotFoundError:
        return False
    if (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
        return True
    with open(src, "rb") as one, open(dst, "rb") as two:
        return a.st_size == b.st_size and one.read() == two.read()


def remove_stale(output: Path, before: set[str], now: set[str]) -> list[str]:
    """Delete output paths an earlier build wrote that this build no longer produces."""
    removed = []
    for rel in sorted(before - now, key=len, reverse=True):
        path = output / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(rel)
    return removed


def remove_empty_parents(output: Path, path: Path) -> None:
    """Remove the folders above ``path`` that removing it emptied, up to (not including) ``output``."""
    for folder in path.parents:
        if folder == output or output not in folder.parents:
            return
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): it holds someone's files
            return


def sweep_output(output: Path, owned: set[str], also=()) -> None:
    """Remove the temporary names a killed build left beside the output paths dzbuild writes (and in
    the folders ``also``: the cache, the control files' folders).

    Only the folders holding those paths are looked at, and only names dzbuild makes
    (``.NAME.partial-PID``) are removed: the site's own files are never touched.
    """
    for folder in also:
        sweep_partials(folder)
    folders = {output}
    for rel in owned:
        path = output / rel
        folders |= {path} | {parent for parent in path.parents if output in parent.parents}
    for folder in folders:
        if version_number(folder.name) is None:  # a version folder is renamed into place whole
            sweep_partials(folder)
