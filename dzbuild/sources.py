"""The source side of an image folder: ``v0/``, ``v1/``... and the tile files they hold.

Only names and ``stat`` results are read here; pixels are checked where tiles are decoded.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import namedtuple
from pathlib import Path

from .errors import SourceError

TYPE_CHECKING = False  # not ``typing``: see ``spec.PyramidSpec``
if TYPE_CHECKING:  # the grid is only needed to scan a new version, not to check published ones
    from .grid import Grid, Tile

TILE_NAME = r"^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)\.([A-Za-z0-9]+)$"  # compiled on first use: a rerun never needs it

Fingerprint = dict  # file name -> [size, mtime_ns]: enough to notice an edit without reading the file


class SourceVersion(namedtuple("SourceVersion", "number path tiles fingerprint")):
    """One ``v{n}/`` folder: its number, path, ``tiles`` (base-level Tile -> file name) and fingerprint."""

    __slots__ = ()


def version_number(name: str) -> int | None:
    """``n`` for a folder named ``v{n}`` (no leading zeros), else None."""
    digits = name[1:]
    if name[:1] != "v" or not digits.isdigit() or not digits.isascii() or (digits[0] == "0" and digits != "0"):
        return None
    return int(digits)


def version_dirs(image_dir: Path) -> list[Path]:
    """The ``v{n}`` folders in order; a gap in the numbers is an error naming the missing one."""
    found: dict[int, Path] = {}
    try:
        entries = list(os.scandir(image_dir))
    except OSError as exc:
        raise SourceError(f"cannot list the image folder: {exc.strerror}", image_dir) from None
    for entry in entries:
        number = version_number(entry.name)
        if number is not None and entry.is_dir():
            if entry.is_symlink():  # a version folder linked in from elsewhere must stay inside the image folder
                _check_link_inside(Path(entry.path), image_dir)
            found[number] = Path(entry.path)
    if not found:
        raise SourceError("no v0/ folder: put the full-resolution tiles in v0/", image_dir)
    for number in range(max(found) + 1):
        if number not in found:
            later = min(n for n in found if n > number)
            raise SourceError(f"versions must be consecutive: v{number}/ is missing but v{later}/ exists", image_dir)
    return [found[n] for n in sorted(found)]


def fingerprint(version_dir: Path) -> Fingerprint:
    """Size and modification time of every visible file, to notice edits of a published version."""
    result = {}
    with os.scandir(version_dir) as entries:
        for entry in entries:
            if not entry.name.startswith("."):
                st = entry.stat()
                result[entry.name] = [st.st_size, st.st_mtime_ns]
    return result


SEAL_MARGIN_NS = 2_000_000_000  # a folder changed this recently may change again within the same clock tick


def folder_seal(folder: Path, now_ns: int) -> list[int] | None:
    """``[inode, mtime_ns]`` of a source folder, or None while it is too fresh to trust.

    Adding, removing or renaming a file (how editors, ``cp`` into a new name, ``git`` and
    ``rsync`` change a folder) moves the folder's mtime; rewriting a file in place does not,
    which is what ``dzbuild check`` is for. A folder modified in the last two seconds is not
    sealed, so an edit in the same timestamp tick as the check cannot hide behind the seal.
    """
    st = os.stat(folder)
    if now_ns - st.st_mtime_ns < SEAL_MARGIN_NS:
        return None
    return [st.st_ino, st.st_mtime_ns]


def changed_files(folder: Path, recorded: Fingerprint, verified: dict, key: str) -> list[str]:
    """Names in ``folder`` whose bytes may differ from what was published, sorted.

    Size and modification time decide, except that a file of the same size with a new time
    (a fresh clone, a restored cache, ``touch``) is compared by CRC-32 when the record has one.
    ``verified`` remembers such times (``"{key}/{name}" -> mtime_ns``) so each is hashed once.
    """
    changed = []
    seen = 0
    with os.scandir(folder) as entries:  # one pass, no intermediate tables: this runs on every rerun
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            published = recorded.get(name)
            if published is None:
                changed.append(name)
                continue
            seen += 1
            st = entry.stat()
            if st.st_size != published[0]:
                changed.append(name)
            elif st.st_mtime_ns != published[1] and verified.get(f"{key}/{name}") != st.st_mtime_ns:
                if len(published) < 3 or zlib.crc32((folder / name).read_bytes()) != published[2]:
                    changed.append(name)
                else:
                    verified[f"{key}/{name}"] = st.st_mtime_ns
    if seen != len(recorded):  # some published file is gone
        present = {entry.name for entry in os.scandir(folder)}
        changed += [name for name in recorded if name not in present]
    return sorted(changed)


def scan_version(version_dir: Path, number: int, grid: "Grid", ext: str) -> SourceVersion:
    """Parse and check every tile name of one version folder against the base level of ``grid``."""
    from .grid import Tile

    level = grid.max_level
    cols, rows = grid.tile_counts(level)
    tiles: dict[Tile, str] = {}
    prints: Fingerprint = {}
    with os.scandir(version_dir) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path = version_dir / name
            match = re.match(TILE_NAME, name)
            if not match:
                raise SourceError("not a tile name: expected {col}_{row}." + ext, path)
            col, row, suffix = int(match.group(1)), int(match.group(2)), match.group(3)
            if suffix != ext:
                raise SourceError(f"tile format is {ext} (pyramid.json) but this file is .{suffix}", path)
            if col >= cols or row >= rows:
                hint = " (row and column swapped?)" if row < cols and col < rows else ""
                raise SourceError(
                    f"tile ({col}, {row}) is outside the {cols}x{rows} grid of the full-resolution level{hint}", path
                )
            if entry.is_symlink():
                _check_link_inside(path, version_dir.parent)
            if not entry.is_file():
                raise SourceError("is not a regular file", path)
            st = entry.stat()
            prints[name] = [st.st_size, st.st_mtime_ns]
            tiles[Tile(level, col, row)] = name
    if number == 0:
        _check_complete(tiles, grid, version_dir, ext)
    elif not tiles:
        raise SourceError("holds no tiles: a new version must change at least one tile", version_dir)
    return SourceVersion(number, version_dir, tiles, prints)


def _check_complete(tiles: dict[Tile, str], grid: Grid, version_dir: Path, ext: str) -> None:
    expected = grid.tile_count(grid.max_level)
    if len(tiles) == expected:
        return
    first = next(t for t in grid.tiles(grid.max_level) if t not in tiles)  # early: a huge grid is not listed
    raise SourceError(
        f"v0 must hold the complete full-resolution level: {expected - len(tiles)} of {expected} tiles are missing,"
        f" the first is {first.col}_{first.row}.{ext}",
        version_dir,
    )


def _check_link_inside(path: Path, image_dir: Path) -> None:
    target = Path(os.path.realpath(path))
    root = Path(os.path.realpath(image_dir))
    if root != target and root not in target.parents:
        raise SourceError(f"is a symbolic link to {target}, outside the image folder", path)
