"""Placing unchanged tiles through the storage plugin: one code path for images and collections.

Most of every version is links to files an earlier version (or the sources) already holds;
this loop runs once per tile of every version, so it is kept to plain lookups and one call.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .api import HasAliases, LinksInto, OutputFormat
from .grid import Owners, Tile
from .plugins import capability, registry


class Placement(NamedTuple):
    """Which tiles a link pass places, and where their physical files are."""

    owners: Owners  # per level, per tile (row-major), the version whose files hold it
    home: OutputFormat  # the format whose version folders hold computed tiles
    folders: dict[int, str]  # version -> folder of ``home`` to use instead of the published one (being assembled)
    skip: frozenset[Tile] = frozenset()  # tiles not to link (they are computed into the folder instead)
    sources: bool = True  # base-level tiles are the source files themselves (False: they are in ``home`` too)
    owned: frozenset[Tile] = frozenset()  # roots of work units, all on one level: each links its subtree itself


def link_all(target, fmt, folder, placement: Placement) -> None:
    """Link every tile of ``fmt`` in ``folder`` (a version being assembled) to its physical file.

    Tiles below ``placement.owned`` are left to the work units rooted there.
    """
    linker = TileLinker(registry().get("storage", target.storage), fmt, target.grid, target.spec.format, folder)
    grid, ext, home, skip = target.grid, target.spec.format, placement.home, placement.skip
    folders = dict(placement.folders)
    published_base = None
    if placement.sources:
        assembling = placement.folders
        published_base = base_holder(
            target.storage, bool(target.spec.overlap), target.image_dir, folder,
            lambda owner: None if owner in assembling else target.version_dir(home, owner),
        )  # fmt: skip
    for level in grid.levels:
        level_owners = placement.owners[level]
        from_sources = placement.sources and level == grid.max_level
        for index, tile in unowned_tiles(grid, level, placement.owned):
            if tile in skip:
                continue
            owner = level_owners[index]
            if from_sources and published_base is not None and published_base(owner):
                physical = f"{published_base(owner)}/{home.tile_path(grid, tile, ext)}"
            elif from_sources:
                physical = target.source_path(tile, owner)
            else:
                holder = folders.get(owner) or folders.setdefault(owner, str(target.version_dir(home, owner)))
                physical = f"{holder}/{home.tile_path(grid, tile, ext)}"
            linker.link(tile, physical)
    linker.flush()


def unowned_tiles(grid, level: int, owned: frozenset[Tile]):
    """``(index, tile)`` for the tiles of ``level`` no work unit links: all of them down to the units'
    roots, below them those under other tiles (a first version, owned entirely, costs no loop here)."""
    split = next(iter(owned)).level if owned else grid.max_level + 1
    if level <= split:
        yield from enumerate(grid.tiles(level))
        return
    for root in grid.tiles(split):
        if root not in owned:
            yield from subtree_tiles(grid, root, level)


def subtree_tiles(grid, root: Tile, level: int):
    """``(index, tile)`` for the tiles of ``level`` below ``root`` (``level`` at or below the root's), row by row."""
    shift = level - root.level
    cols, rows = grid.tile_counts(level)
    for row in range(root.row << shift, min((root.row + 1) << shift, rows)):
        for col in range(root.col << shift, min((root.col + 1) << shift, cols)):
            yield row * cols + col, Tile(level, col, row)


class TileLinker:
    """Places tiles of one format in a folder being assembled: the step every link pass repeats per tile.

    The build's own process and the work units (for the subtrees they own) both link through it.
    """

    def __init__(self, storage, fmt, grid, ext: str, folder) -> None:
        self.batch = LinkBatch(storage)
        self.fmt, self.grid, self.ext, self.folder = fmt, grid, ext, str(folder)
        self.aliases = tile_aliases(fmt, grid, ext)

    def link(self, tile: Tile, physical: str) -> None:
        """Link ``tile``'s path in the format (and its aliases, if any) to the file ``physical``."""
        rel = self.fmt.tile_path(self.grid, tile, self.ext)
        if rel is not None:
            self.batch.link(physical, f"{self.folder}/{rel}")
        if self.aliases and tile in self.aliases:
            for alias in self.aliases[tile]:
                self.batch.link(physical, f"{self.folder}/{alias}")

    def flush(self) -> None:
        self.batch.flush()


def tile_aliases(fmt, grid, ext: str) -> dict:
    """A format's second paths for some tiles (IIIF's ``full/max``): ``{tile: [path, ...]}``, often none."""
    aliasing = capability(fmt, HasAliases)
    return aliasing.aliases(grid, ext) if aliasing is not None else {}


def base_holder(storage: str, overlap: bool, image_dir, folder, published_dir):
    """With hard links and the sources on another file system, a base tile an earlier version
    published is linked from that version's own file in ``dest`` (same file system, one inode for
    every version) instead of copied from the source again; None when the sources are the place.

    ``published_dir(owner)`` is the folder of the version's home, or None for one being assembled.
    """
    if storage != "hardlink" or overlap:
        return None
    if os.stat(image_dir).st_dev == os.stat(folder).st_dev:
        return None
    known: dict[int, str | None] = {}

    def holder(owner: int) -> str | None:
        if owner not in known:
            path = published_dir(owner)
            known[owner] = str(path) if path is not None and path.is_dir() else None  # vacuumed: the source
        return known[owner]

    return holder


class LinkBatch:
    """A storage's links, gathered by (target folder, output folder) for its ``link_into`` when it has one.

    Links that keep their file name (most of every version) go out in groups; the others, and
    every link of a storage without ``link_into``, go to ``link`` at once. Call ``flush`` at the end.
    """

    LIMIT = 512  # names held per folder pair before they are linked: memory stays flat

    def __init__(self, storage) -> None:
        self.storage = storage
        linking = capability(storage, LinksInto)
        self.link_into = linking.link_into if linking is not None else None
        self.groups: dict[tuple[str, str], list[str]] = {}

    def link(self, target: str, path: str) -> None:
        if self.link_into is None:
            return self.storage.link(target, path)
        target_dir, name = target.rsplit("/", 1)
        dest_dir, dest_name = path.rsplit("/", 1)
        if name != dest_name:
            return self.storage.link(target, path)
        names = self.groups.setdefault((target_dir, dest_dir), [])
        names.append(name)
        if len(names) >= self.LIMIT:
            self.link_into(target_dir, dest_dir, names)
            del self.groups[(target_dir, dest_dir)]

    def flush(self) -> None:
        for (target_dir, dest_dir), names in self.groups.items():
            self.link_into(target_dir, dest_dir, names)
        self.groups.clear()
