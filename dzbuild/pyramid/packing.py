"""Hand a version's computed tiles to a format that packs them into a few containers (``PacksVersions``).

Link-tree formats get one link per tile; a packing format gets, once per version, the files of
the tiles that version computed (read from the first format's published folder, so they are the
bytes Deep Zoom serves) and the descriptor it wrote for the version before.
"""

from __future__ import annotations

from pathlib import Path

from ..api import PacksVersions, VersionTiles
from ..plugins import capability, registry


def packing(fmt) -> PacksVersions | None:
    """``fmt`` if it packs versions, else None (it is linked tile by tile)."""
    return capability(fmt, PacksVersions)


def pack_version(target, fmt: PacksVersions, folder: Path, version: int, owners) -> None:
    """Write every file ``fmt`` packs version ``version`` into, in ``folder`` (being assembled).

    ``owners`` says which version holds each published tile (the overlap table with overlap), so
    the tiles this version computed are those it owns, in the first format's published folder.
    """
    grid, primary = target.grid, target.formats[0]
    holder = target.version_dir(primary, version)
    tiles = {
        tile: str(holder / primary.tile_path(grid, tile, target.spec.format))
        for level in grid.levels
        for index, tile in enumerate(grid.tiles(level))
        if owners[level][index] == version
    }
    previous = target.version_dir(fmt, version - 1) / fmt.descriptor if version else None
    before = previous.read_bytes() if previous is not None and previous.is_file() else None
    storage = registry().get("storage", target.storage)
    for rel, data in fmt.pack(target.spec, grid, VersionTiles(version, tiles, before)):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        storage.write(str(path), data)
