"""The per-version half of ``dzbuild check``: descriptors, tiles, links and (deep) recomputation.

Every computed tile lives in one *home*: the first format's folder, or ``core/`` when tiles have
overlap (published overlap tiles are then cut from the core and held by the first format). A tile
a version holds must be a real file there; every other tile must be the physical file its owner
holds: the same inode (hard link), a symbolic link that resolves to it inside the site, or equal
bytes (copy). Tiles are decoded only by ``deep``; otherwise their header is read (microseconds).
"""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DzbuildError, SourceError
from ..grid import Tile
from ..hookspecs import VersionContext
from ..io import codec
from ..link import tile_aliases
from ..plugins import registry
from ..pyramid.packing import packing
from ..pyramid.renditions import render, renditions_of
from ..pyramid.target import CORE_FOLDER
from .packs import check_pack

PROBE_URL = "https://check.invalid/base"  # descriptors that do not change with it must match exactly


@dataclass(frozen=True)
class FolderCheck:
    """How one format folder of a version is checked."""

    fmt: object
    owners: list  # per level: the version that holds each tile
    home: object  # the format (or core) whose folder holds the physical files
    sources: bool  # base tiles are the source files themselves
    only_held: bool = False  # the core: it holds only the tiles its version computed
    overlap: int = 0  # published tiles widened by this many pixels


def check_version(checker, version) -> None:
    for layout in layouts(version):
        folder = checker.dest / layout.fmt.name / f"v{version.number}"
        if not folder.is_dir():
            continue  # reported with the folders
        if packing(layout.fmt) is not None:
            check_pack(checker, version, layout.fmt, folder)
            continue
        expected = _check_descriptors(checker, version, layout.fmt, folder)
        tiles = [(t, layout.fmt.tile_path(version.grid, t, version.spec.format)) for t in _tiles(version, layout)]
        aliases = tile_aliases(layout.fmt, version.grid, version.spec.format) if not layout.only_held else {}
        tiles += [(t, alias) for t, paths in aliases.items() for alias in paths]
        expected |= {rel for _, rel in tiles if rel is not None}
        renditions = renditions_of(layout.fmt, version.grid, version.spec.format) if not layout.only_held else {}
        expected |= {part for rel in renditions for part in _with_parents(rel)}
        _check_nothing_extra(checker, folder, expected)
        for tile, rel in tiles:
            if rel is not None:
                _check_tile(checker, version, layout, tile, folder / rel)
                checker.report.tiles += 1
        _check_renditions(checker, version, {folder / rel: size for rel, size in renditions.items()})
    if checker.deep:
        _recompute(checker, version, layouts(version)[0 if not version.spec.overlap else -1])


def layouts(version) -> list[FolderCheck]:
    """The first format (the home without overlap), the others, and with overlap the core last."""
    primary, *others = version.formats
    if not version.spec.overlap:
        first = FolderCheck(primary, version.owners, primary, True)
        return [first] + [FolderCheck(fmt, version.owners, primary, True) for fmt in others]
    published = FolderCheck(primary, version.overlap_owners, primary, False, overlap=version.spec.overlap)
    linked = [FolderCheck(fmt, version.owners, CORE_FOLDER, True) for fmt in others]
    return [published, *linked, FolderCheck(CORE_FOLDER, version.owners, CORE_FOLDER, True, only_held=True)]


def _tiles(version, layout: FolderCheck):
    grid = version.grid
    for level in grid.levels[:-1] if layout.only_held else grid.levels:
        for tile in grid.tiles(level):
            if not layout.only_held or layout.owners[level][grid.index(tile)] == version.number:
                yield tile


def _check_descriptors(checker, version, fmt, folder: Path) -> set[str]:
    """Descriptors must parse, and equal what the spec implies unless they embed the site's URL."""

    probed = fmt.descriptors(version.spec, version.grid, VersionContext(version.number, PROBE_URL))
    try:
        plain = fmt.descriptors(version.spec, version.grid, VersionContext(version.number, None))
    except DzbuildError:  # a format that needs the site's URL (IIIF)
        plain = None
    for rel, data in probed.items():
        path = folder / rel
        try:
            actual = path.read_bytes()
        except OSError:
            checker.problem(path, "descriptor is missing")
            continue
        if not parses(rel, actual):
            checker.problem(path, "descriptor does not parse")
        elif plain is not None and plain.get(rel) == data and actual != data:
            checker.problem(path, "descriptor differs from what the record's pyramid.json implies")
    return set(probed) | {d for rel in fmt.dirs(version.grid) for d in _with_parents(rel)}


def _with_parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _check_nothing_extra(checker, folder: Path, expected: set[str]) -> None:
    for parent, dirs, files in os.walk(folder):
        base = os.path.relpath(parent, folder).replace(os.sep, "/")
        prefix = "" if base == "." else f"{base}/"
        for name in sorted(dirs + files):
            if prefix + name not in expected:
                checker.problem(Path(parent) / name, "unexpected: no tile or descriptor of this version")
        dirs[:] = [d for d in dirs if prefix + d in expected]


def _physical(checker, version, layout: FolderCheck, tile: Tile) -> tuple[int, Path | None]:
    """The owner of ``tile`` and the one file that holds it (None: a source file we cannot see)."""
    owner = layout.owners[tile.level][version.grid.index(tile)]
    if layout.sources and tile.level == version.grid.max_level:
        if checker.sources is None:
            return owner, None
        return owner, checker.sources / f"v{owner}" / f"{tile.col}_{tile.row}.{version.spec.format}"
    home = layout.home
    return owner, checker.dest / home.name / f"v{owner}" / home.tile_path(version.grid, tile, version.spec.format)


def _size(version, layout: FolderCheck, tile: Tile) -> tuple[int, int]:
    if layout.overlap:
        return tuple(version.grid.overlap_bounds(tile, layout.overlap)[2:])
    return tuple(version.grid.tile_size_of(tile))


def _check_tile(checker, version, layout: FolderCheck, tile: Tile, path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return checker.problem(path, "is missing")
    owner, physical = _physical(checker, version, layout, tile)
    holds_it = layout.fmt is layout.home and owner == version.number
    holds_it = holds_it and (not layout.sources or tile.level < version.grid.max_level)
    if stat.S_ISLNK(mode):
        if holds_it:
            return checker.problem(path, f"is a link, but v{version.number} holds this tile's file")
        if not _check_symlink(checker, path):
            return
    elif not stat.S_ISREG(mode):
        return checker.problem(path, "is not a file")
    if not holds_it and physical is not None and not _check_same(checker, path, physical, owner):
        return
    if layout.sources and tile.level == version.grid.max_level:
        _check_fingerprint(checker, version, tile, path, owner)
    _check_pixels(checker, path, _size(version, layout, tile))


def _check_renditions(checker, version, renditions: dict) -> None:
    """Whole-image pictures (``api.HasRenditions``): the right size, and with ``deep`` the bytes a
    recomputation from the version's tiles gives."""
    made: dict[tuple[int, int], bytes | None] = {}
    for path, size in renditions.items():
        if not path.is_file():
            checker.problem(path, "is missing")
            continue
        _check_pixels(checker, path, tuple(size))
        if not checker.deep:
            continue
        if size not in made:
            made[size] = _recompute_rendition(checker, version, size)
        if made[size] is not None and made[size] != path.read_bytes():
            checker.problem(path, f"differs from its recomputation from the tiles of v{version.number}")


def _recompute_rendition(checker, version, size) -> bytes | None:
    """The picture rebuilt from the overlap-free tiles; None when they cannot all be read."""
    home = version.formats[0] if not version.spec.overlap else CORE_FOLDER
    reading = FolderCheck(home, version.owners, home, True)

    def read(tile: Tile) -> str:
        path = _physical(checker, version, reading, tile)[1]
        if path is None:
            raise FileNotFoundError(tile)  # sources we cannot see (dest is not IMAGE_DIR/dest)
        return str(path)

    try:
        return render(version.grid, size, version.spec.format, version.spec.quality, read)
    except (OSError, SourceError):
        return None  # a missing or broken tile, reported with the tiles


def _check_symlink(checker, path: Path) -> bool:
    target = os.readlink(path)
    real = os.path.realpath(path)
    if not os.path.exists(real):
        checker.problem(path, f"broken link to {target}")
        return False
    if os.path.islink(path.parent / target):
        checker.problem(path, f"links to {target}, which is itself a link (links must point at the physical file)")
    if os.path.commonpath([real, checker.root]) != checker.root:
        checker.problem(path, f"links to {real}, outside {checker.root}")
        return False
    return True


def _check_same(checker, path: Path, physical: Path, owner: int) -> bool:
    try:
        theirs = os.stat(physical)
    except FileNotFoundError:
        checker.problem(path, f"its record says v{owner} holds it, but {physical} is missing")
        return False
    mine = os.stat(path)
    if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
        return True
    if os.path.islink(path):
        checker.problem(path, f"links to {os.path.realpath(path)}, but its record says {physical}")
    elif mine.st_size != theirs.st_size or path.read_bytes() != physical.read_bytes():
        checker.problem(path, f"differs from {physical}, the file its record says it stands for")
    else:
        return True
    return False


def _check_fingerprint(checker, version, tile: Tile, path: Path, owner: int) -> None:
    """A base tile that is its source file (a link) must still be what the owner's record saw."""
    recorded = version.sources.get(f"v{owner}", {}).get(f"{tile.col}_{tile.row}.{version.spec.format}")
    if recorded is None:
        return
    st = os.stat(path)
    if len(recorded) > 2:  # the CRC-32 of the published bytes: decisive whatever the storage or mtime
        key = (st.st_dev, st.st_ino, st.st_mtime_ns)
        if key not in checker.crcs:
            checker.crcs[key] = zlib.crc32(path.read_bytes())
        modified = checker.crcs[key] != recorded[2]
    else:  # a link shares the source's mtime; a copy only its size
        shared = os.path.islink(path) or st.st_nlink > 1
        modified = st.st_size != recorded[0] or (shared and st.st_mtime_ns != recorded[1])
    if modified:
        checker.problem(path, f"was modified after v{owner} was published (published tiles never change)")


def _check_pixels(checker, path: Path, size: tuple[int, int]) -> None:
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, size)
    if key not in checker.pixels_seen:
        try:
            codec.check_tile(path.read_bytes(), path, size)
            checker.pixels_seen[key] = None
        except SourceError as exc:
            checker.pixels_seen[key] = exc.message
    message = checker.pixels_seen[key]
    if message is not None:
        checker.problem(path, message)


def _recompute(checker, version, checked: FolderCheck) -> None:
    """Every tile this version computed must equal its recomputation from its children on disk."""
    resampler = registry().get("resampler", version.resampler)
    grid = version.grid
    for level in range(grid.max_level):
        for tile in grid.tiles(level):
            owner, path = _physical(checker, version, checked, tile)
            if owner != version.number:
                continue
            paths = {(c.col - 2 * tile.col, c.row - 2 * tile.row): _child(checker, version, checked, c)
                     for c in grid.children(tile)}
            if None in paths.values():
                continue  # sources we cannot see (dest is not IMAGE_DIR/dest)
            _compare(checker, resampler, version, tile, path, paths)
            checker.report.recomputed += 1


def _child(checker, version, checked: FolderCheck, tile: Tile) -> Path | None:
    """Where a child is read: the version's own complete folder, or its physical file in the core."""
    if checked.only_held:
        return _physical(checker, version, checked, tile)[1]
    fmt = checked.fmt
    return checker.dest / fmt.name / f"v{version.number}" / fmt.tile_path(version.grid, tile, version.spec.format)


def _compare(checker, resampler, version, tile: Tile, path: Path, paths: dict) -> None:
    grid, spec = version.grid, version.spec
    try:
        children = {offset: child.read_bytes() for offset, child in paths.items()}
        pixels = resampler.parent(children, grid.tile_size_of(tile), grid.tile_size)
        if codec.encode(pixels, spec.format, spec.quality) != path.read_bytes():
            checker.problem(path, f"differs from its recomputation ({version.resampler}, quality {spec.quality})")
    except OSError as exc:
        checker.problem(exc.filename or path, f"cannot be read: {exc.strerror or exc}")
    except SourceError as exc:
        culprit = _undecodable(paths.values()) or exc
        checker.problem(culprit.path or path, culprit.message)
    except ValueError as exc:  # children of the wrong size (reported above) do not fit together
        checker.problem(path, f"cannot be recomputed from its children: {exc}")


def _undecodable(paths) -> SourceError | None:
    """The error of the first child that fails to decode on its own (the resampler never sees paths)."""
    for path in paths:
        try:
            codec.decode(path.read_bytes(), path)
        except SourceError as exc:
            return exc
    return None


def parses(name: str, data: bytes) -> bool:
    """Whether a descriptor parses as what its extension says (XML and JSON are checked)."""
    try:
        if name.endswith((".xml", ".dzi", ".dzc")):
            ET.fromstring(data)
        elif name.endswith(".json"):
            json.loads(data)
    except (ET.ParseError, ValueError):
        return False
    return True

