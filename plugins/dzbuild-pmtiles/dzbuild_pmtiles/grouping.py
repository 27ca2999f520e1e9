"""Which archive of a version holds each tile it computed: a pure function of the grid and those tiles.

A viewer on a host that ignores ``Range`` downloads whole archives, so an archive holds tiles a
viewer shows together:

- ``low``: every level from the one-tile level up to the last with at most ``LOW_TILES`` tiles,
  which the first view of any image needs (a small image is this archive alone);
- when the version computed every tile above those (version 0), ``{level}-{bx}-{by}``: the
  2x2-tile block ``(bx, by)`` of one level, a quarter of a typical window;
- otherwise (a patch), ``{max}-{bx}-{by}`` for its changed full-resolution tiles, block by block,
  and ``chain-{bx}-{by}`` for the recomputed ancestors, each with the first (row by row) changed
  block below it, so ``k`` changed tiles make at most ``2k + 1`` archives.

Levels below the one-tile level are left out: the viewer opens the pack at that level.
"""

from __future__ import annotations

from dzbuild.api import Grid, Tile

LOW_TILES = 16  # a 4x4-tile level, 1024x1024 pixels with 256-pixel tiles: the first view of a large image
BLOCK = 2  # tiles per block side above the low levels
LOW = "low"


def one_tile_level(grid: Grid) -> int:
    """The largest level that is a single tile: the smallest the pack holds."""
    return max(level for level in grid.levels if grid.tile_counts(level) == (1, 1))


def low_top(grid: Grid) -> int:
    """The largest level that still goes into the ``low`` archive."""
    return max(level for level in grid.levels if grid.tile_count(level) <= LOW_TILES)


def group_tiles(grid: Grid, tiles) -> dict[str, list[Tile]]:
    """``{archive name: [tile, ...]}`` for the tiles (of one version) the pack holds, names sorted."""
    first, low = one_tile_level(grid), low_top(grid)
    kept = [tile for tile in tiles if tile.level >= first]
    upper = [tile for tile in kept if tile.level > low]
    whole = len(upper) == sum(grid.tile_count(level) for level in range(low + 1, grid.max_level + 1))
    key = _block_key if whole else _patch_keys(grid, upper)
    groups: dict[str, list[Tile]] = {}
    for tile in kept:
        groups.setdefault(LOW if tile.level <= low else key(tile), []).append(tile)
    return {name: sorted(groups[name]) for name in sorted(groups)}


def _block_key(tile: Tile) -> str:
    return f"{tile.level}-{tile.col // BLOCK}-{tile.row // BLOCK}"


def _patch_keys(grid: Grid, upper: list[Tile]):
    """The archive of each tile of a patch: its block at full resolution, else its chain."""
    top = grid.max_level
    chains: dict[Tile, str] = {}
    for block in sorted({(t.row // BLOCK, t.col // BLOCK) for t in upper if t.level == top}):
        name = f"chain-{block[1]}-{block[0]}"
        tile = Tile(top, block[1] * BLOCK, block[0] * BLOCK)
        for ancestor in grid.ancestors(tile):
            if ancestor in chains:  # an earlier block claimed it, and so everything above it
                break
            chains[ancestor] = name
    fallback = min(chains.values(), default="chain-0-0")  # an ancestor no changed tile lies below (overlap)

    def key(tile: Tile) -> str:
        return _block_key(tile) if tile.level == top else chains.get(tile, fallback)

    return key
