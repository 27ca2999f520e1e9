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


def link_all(target, fmt, folder, placement: Placement) -> None:
    """Link every tile of ``fmt`` in ``folder`` (a version being assembled) to its physical file."""
    batch = LinkBatch(registry().get("storage", target.storage))
    grid, ext, home, skip = target.grid, target.spec.format, placement.home, placement.skip
    folders = dict(placement.folders)
    aliases = tile_aliases(fmt, grid, ext)
    published_base = _published_base(target, folder, placement)
    for level in grid.levels:
        level_owners = placement.owners[level]
        from_sources = placement.sources and level == grid.max_level
        for index, tile in enumerate(grid.tiles(level)):  # row-major, like the owners table
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
            rel = fmt.tile_path(grid, tile, ext)
            if rel is not None:
                batch.link(physical, f"{folder}/{rel}")
            if aliases and tile in aliases:
                for alias in aliases[tile]:
                    batch.link(physical, f"{folder}/{alias}")
    batch.flush()


def tile_aliases(fmt, grid, ext: str) -> dict:
    """A format's second paths for some tiles (IIIF's ``full/max``): ``{tile: [path, ...]}``, often none."""
    aliasing = capability(fmt, HasAliases)
    return aliasing.aliases(grid, ext) if aliasing is not None else {}


def _published_base(target, folder, placement: Placement):
    """With hard links and the sources on another file system, a base tile an earlier version
    published is linked from that version's own file in ``dest`` (same file system, one inode for
    every version) instead of copied from the source again; None when the sources are the place."""
    if not placement.sources or target.storage != "hardlink" or target.spec.overlap:
        return None
    if os.stat(target.image_dir).st_dev == os.stat(folder).st_dev:
        return None
    known: dict[int, str | None] = {}

    def holder(owner: int) -> str | None:
        if owner not in known:
            path = None if owner in placement.folders else target.version_dir(placement.home, owner)
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
