"""Hand a version's computed tiles to a format that packs them into a few containers (``PacksVersions``).

Link-tree formats get one link per tile; a packing format gets, once per version, the files of
the tiles that version computed (read from the first format's published folder, so they are the
bytes Deep Zoom serves) and the descriptor it wrote for the version before. Packing is a pure
function of those, so ``dzbuild check`` packs again in memory and compares.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..api import PacksVersions, VersionTiles
from ..plugins import capability, registry


def packing(fmt) -> PacksVersions | None:
    """``fmt`` if it packs versions, else None (it is linked tile by tile)."""
    return capability(fmt, PacksVersions)


def computed_tiles(dest: Path, spec, grid, formats, version: int, owners) -> dict:
    """``{tile: path}`` of every tile ``version`` computed, in the first of ``formats`` (the home).

    ``owners`` says which version holds each published tile (the overlap table with overlap), so
    the tiles this version computed are those it owns, in the first format's published folder.
    """
    primary = formats[0]
    holder = f"{dest}/{primary.name}/v{version}"
    return {
        tile: f"{holder}/{primary.tile_path(grid, tile, spec.format)}"
        for level in grid.levels
        for index, tile in enumerate(grid.tiles(level))
        if owners[level][index] == version
    }


def packed(dest: Path, spec, grid, formats, fmt: PacksVersions, version: int, owners):
    """``(path, bytes)`` of every file ``fmt`` packs ``version`` into, one at a time."""
    previous = dest / fmt.name / f"v{version - 1}" / fmt.descriptor if version else None
    before = previous.read_bytes() if previous is not None and previous.is_file() else None
    tiles = computed_tiles(dest, spec, grid, formats, version, owners)
    return fmt.pack(spec, grid, VersionTiles(version, tiles, before))


def pack_version(target, fmt: PacksVersions, folder: Path, version: int, owners) -> None:
    """Write every file ``fmt`` packs version ``version`` into, in ``folder`` (being assembled)."""
    storage = registry().get("storage", target.storage)
    made = {str(folder)}
    for rel, data in packed(target.dest, target.spec, target.grid, target.formats, fmt, version, owners):
        path = os.path.join(folder, rel)
        if os.path.dirname(path) not in made:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            made.add(os.path.dirname(path))
        storage.write(path, data)
