"""The source side of an image folder: ``v0/``, ``v1/``... and the tile files they hold.

Only names and ``stat`` results are read here; pixels are checked where tiles are decoded.
"""

from __future__ import annotations

import os
import re
import zlib
from array import array
from pathlib import Path
from typing import NamedTuple

from ..errors import ConfigError, SourceError
from ..grid import Grid, Tile, TileSet

TILE_NAME = r"^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)\.([A-Za-z0-9]+)$"  # compiled on first use: a rerun never needs it

class SourceVersion(NamedTuple):
    """One ``v{n}/`` folder and the base-level tiles it holds."""

    number: int
    path: Path
    tiles: TileSet
    fingerprint: TileFingerprint


class TileFingerprint:
    """``[size, mtime_ns]`` (plus the CRC-32 once a worker read the file) of each tile of a folder.

    Kept in flat arrays, in the order the folder listed them: 32 bytes a tile where a dict of
    lists costs about 250, so scanning a huge image's ``v0/`` does not grow the build's memory.
    Written to ``v{n}.sources.json`` as ``{name: [size, mtime_ns, crc32]}``, the form
    ``changed_files`` reads.
    """

    def __init__(self, cols: int, ext: str) -> None:
        self.cols, self.ext = cols, ext
        self.indices = array("q")  # row-major position of each file's tile in the base level
        self.sizes = array("q")
        self.mtimes = array("q")
        self.crcs = array("q")  # -1: not read by any worker

    def add(self, index: int, st: os.stat_result) -> None:
        self.indices.append(index)
        self.sizes.append(st.st_size)
        self.mtimes.append(st.st_mtime_ns)
        self.crcs.append(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def set_crcs(self, pairs) -> None:
        """Record CRC-32s given as a flat sequence ``index, crc, index, crc...``."""
        if not pairs:
            return

        position = array("q", [-1]) * (max(self.indices) + 1)  # tile index -> slot: 8 bytes a tile, no dict
        for slot, index in enumerate(self.indices):
            position[index] = slot
        for at in range(0, len(pairs), 2):
            self.crcs[position[pairs[at]]] = pairs[at + 1]

    def items(self):
        """``(file name, [size, mtime_ns(, crc32)])`` for every file."""
        cols, ext = self.cols, self.ext
        for index, size, mtime, crc in zip(self.indices, self.sizes, self.mtimes, self.crcs, strict=True):
            yield f"{index % cols}_{index // cols}.{ext}", [size, mtime] if crc < 0 else [size, mtime, crc]

    def json_chunks(self, per_chunk: int = 1024):
        """The JSON text of ``dict(self.items())``, a thousand entries at a time."""
        yield "{"
        batch = []
        for number, (name, entry) in enumerate(self.items()):
            batch.append(f'{"," if number else ""}"{name}":[{",".join(map(str, entry))}]')  # names are [0-9_.a-z]
            if len(batch) == per_chunk:
                yield "".join(batch)
                batch.clear()
        yield "".join(batch) + "}"


def version_number(name: str) -> int | None:
    """``n`` for a folder named ``v{n}`` (no leading zeros), else None."""
    digits = name[1:]
    if name[:1] != "v" or not digits.isdigit() or not digits.isascii() or (digits[0] == "0" and digits != "0"):
        return None
    if len(digits) > 9:  # a billion versions is no image; int() of thousands of digits raises
        return None
    return int(digits)


def version_dirs(image_dir: Path, dest: Path | None = None) -> list[Path]:
    """The ``v{n}`` folders in order; a gap in the numbers is an error naming the missing one.

    With ``dest`` (the output), also refuse an output that would write into the sources.
    """
    if dest is not None:
        check_output_place(image_dir, dest)
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


RACY_NS = 2_000_000_000  # a file changed this recently may change again within the same clock tick


def file_identity(st: os.stat_result) -> list[int]:
    """``[inode, size, mtime_ns, ctime_ns]``: what git's index compares to trust a file unread.

    Any write moves the ctime, and no tool can set it back (``touch`` and ``os.utime`` set
    only the other two), so a tile rewritten in place keeping its size and mtime is noticed.
    """
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def is_racy(identity: list[int], now_ns: int) -> bool:
    """Git's "racily clean" rule: a file changed within the timestamp granularity of ``now_ns``
    may change again without moving its times, so its identity proves nothing yet."""
    return max(identity[2], identity[3]) > now_ns - RACY_NS


def all_trusted(folder: Path, known: dict) -> bool:
    """Whether ``folder`` holds exactly the files of ``known``, each with that identity (read nothing else)."""
    count = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            count += 1
            if known.get(entry.name) != file_identity(entry.stat()):
                return False
    return count == len(known)


def changed_files(folder: Path, recorded: dict, known: dict | None = None, now_ns: int = 0) -> list[str]:
    """Names in ``folder`` whose bytes may differ from what was published, sorted.

    A file whose identity (``file_identity``) equals its entry in ``known`` is trusted unread.
    Any other is compared with the record: size, then CRC-32 when the record has one (an edit in
    place that restored the mtime is found; a fresh clone, new times with the same bytes, is not
    an edit), else the mtime. ``known`` is then replaced by the identities of the files found
    unchanged, except racy ones (``is_racy`` at ``now_ns``), so each is read at most once.
    """
    known = {} if known is None else known
    trusted, changed, seen = {}, [], 0
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
            identity = file_identity(entry.stat())
            if known.get(name) != identity and not _same_bytes(folder / name, identity, published):
                changed.append(name)
            elif not is_racy(identity, now_ns):
                trusted[name] = identity
    known.clear()
    known.update(trusted)
    if seen != len(recorded):  # some published file is gone
        present = {entry.name for entry in os.scandir(folder)}
        changed += [name for name in recorded if name not in present]
    return sorted(changed)


def _same_bytes(path: Path, identity: list[int], published: list[int]) -> bool:
    """What the record can tell of a file not trusted by its identity: size, then CRC-32 or mtime."""
    if identity[1] != published[0]:
        return False
    if len(published) >= 3:
        return zlib.crc32(path.read_bytes()) == published[2]
    return identity[2] == published[1]


def scan_version(version_dir: Path, number: int, grid: Grid, ext: str) -> SourceVersion:
    """Parse and check every tile name of one version folder against the base level of ``grid``.

    Memory is a few bytes per file: the tiles come back as a ``TileSet`` when the folder holds
    much of the level (always for ``v0/``), else as a frozenset.
    """
    level = grid.max_level
    cols, rows = grid.tile_counts(level)
    prints = TileFingerprint(cols, ext)
    with os.scandir(version_dir) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            match = re.match(TILE_NAME, name)  # (no Path per tile: pathlib would intern every name for good)
            if not match:
                raise SourceError("not a tile name: expected {col}_{row}." + ext, version_dir / name)
            col, row, suffix = int(match.group(1)), int(match.group(2)), match.group(3)
            if suffix != ext:
                raise SourceError(f"tile format is {ext} (pyramid.json) but this file is .{suffix}", version_dir / name)
            if col >= cols or row >= rows:
                hint = " (row and column swapped?)" if row < cols and col < rows else ""
                raise SourceError(
                    f"tile ({col}, {row}) is outside the {cols}x{rows} grid of the full-resolution level{hint}",
                    version_dir / name,
                )
            if entry.is_symlink():
                _check_link_inside(Path(entry.path), version_dir.parent)
            if not entry.is_file():
                raise SourceError("is not a regular file", version_dir / name)
            st = entry.stat()
            prints.add(row * cols + col, st)
    count = len(prints)
    if number == 0 and count != cols * rows:
        _refuse_incomplete(prints, grid, version_dir, ext)
    if not count:
        raise SourceError("holds no tiles: a new version must change at least one tile", version_dir)
    if count == cols * rows:  # names are unique, so the folder holds every tile of the level
        tiles = TileSet.whole_levels(grid, [level])
    else:
        tiles = frozenset(Tile(level, index % cols, index // cols) for index in prints.indices)
        if count * 16 > grid.total_tiles:  # dense: one byte a tile of the grid beats an object a tile
            tiles = TileSet(grid, tiles)
    return SourceVersion(number, version_dir, tiles, prints)


def _refuse_incomplete(prints: TileFingerprint, grid: Grid, version_dir: Path, ext: str) -> None:
    cols, rows = grid.tile_counts(grid.max_level)
    present = set(prints.indices)
    first = next(index for index in range(cols * rows) if index not in present)  # early: a huge grid is not listed
    raise SourceError(
        f"v0 must hold the complete full-resolution level: {cols * rows - len(present)} of {cols * rows} tiles"
        f" are missing, the first is {first % cols}_{first // cols}.{ext}",
        version_dir,
    )


def _check_link_inside(path: Path, image_dir: Path) -> None:
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError as exc:  # a loop, or a link to nothing
        raise SourceError(f"is a symbolic link that leads nowhere ({exc.strerror})", path) from None
    root = Path(os.path.realpath(image_dir))
    if root != target and root not in target.parents:
        raise SourceError(f"is a symbolic link to {target}, outside the image folder", path)


def check_output_place(image_dir: Path, dest: Path) -> None:
    """``dest`` may sit in the image folder (the default), never on it, above it or in a version folder."""
    if dest.exists() and not dest.is_dir():
        raise ConfigError("is a file: the output must be a folder", dest)
    image, out = image_dir.resolve(), dest.resolve()
    inside = out.relative_to(image).parts if image in out.parents else ()
    if out == image or out in image.parents or (inside and version_number(inside[0]) is not None):
        raise ConfigError(
            f"cannot be the output of {image_dir}: it is the image folder, holds it, or is one of its source"
            " versions (use a folder of its own, e.g. the default IMAGE/dest)",
            dest,
        )
