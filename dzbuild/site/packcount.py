"""How many files a site would have with packs, for the host-limit warning that suggests them.

It counts the archives of the PMTiles pack layout (``plugins/dzbuild-pmtiles``, whose README
describes it) without building them: per version one index, one archive of the low levels, then
for version 0 one archive per 2x2 block of every higher level, and for a later version one per
2x2 block of its changed full-resolution tiles plus one chain of ancestors per such block.
"""

from __future__ import annotations

from pathlib import Path

from ..grid import Grid
from ..pyramid.state import State

PACK_FORMAT = "pmtiles"
LOW_TILES = 16  # the pack layout's low levels: every level of at most this many tiles
BLOCK = 2  # and its blocks, in tiles a side


def pack_files(grid: Grid, changed: set[tuple[int, int]] | None) -> int:
    """Files of one packed version: ``changed`` is None for version 0, else its changed (col, row) base tiles."""
    low = max(level for level in grid.levels if grid.tile_count(level) <= LOW_TILES)
    upper = range(low + 1, grid.max_level + 1)
    if not upper:
        return 2  # the index and the whole image
    if changed is None:
        return 2 + sum(_blocks(*grid.tile_counts(level)) for level in upper)
    blocks = len({(col // BLOCK, row // BLOCK) for col, row in changed})
    return 2 + blocks * (2 if len(upper) > 1 else 1)


def packed_site_files(files: int, output: Path, cache: Path, images, formats) -> int:
    """``files`` (the output's count) with each image's tile-tree folders replaced by packs."""
    for image in images:
        grid = Grid(image.width, image.height, image.tile_size)
        trees = [output / image.rel / fmt.name for fmt in formats if fmt.name != PACK_FORMAT]
        files -= sum(1 for tree in trees if tree.is_dir() for path in tree.rglob("*") if not path.is_dir())
        state = State(cache / image.rel)
        for number in image.available:
            files += pack_files(grid, _changed(state, grid, number))
    return files


def _blocks(cols: int, rows: int) -> int:
    return -(-cols // BLOCK) * -(-rows // BLOCK)


def _changed(state: State, grid: Grid, number: int) -> set[tuple[int, int]] | None:
    if number == 0:
        return None
    base = State.owners_of(state.record(number))[grid.max_level]
    cols = grid.tile_counts(grid.max_level).width
    return {(index % cols, index // cols) for index, owner in enumerate(base) if owner == number}
