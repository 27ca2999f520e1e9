"""Which archive holds each tile: small images whole, blocks for version 0, blocks and chains for patches."""

from __future__ import annotations

from dzbuild_pmtiles.grouping import group_tiles, low_top, one_tile_level

from dzbuild.grid import Grid, Tile, ancestors_of


def every_tile(grid: Grid) -> list[Tile]:
    return [tile for level in grid.levels for tile in grid.tiles(level)]


def test_a_small_image_is_one_archive_from_its_one_tile_level_up():
    grid = Grid(768, 512, 256)  # 3x2 tiles at full resolution
    assert one_tile_level(grid) == 8 and low_top(grid) == 10
    groups = group_tiles(grid, every_tile(grid))
    assert list(groups) == ["low"]
    assert groups["low"] == sorted(t for t in every_tile(grid) if t.level >= 8)  # 1 + 2 + 6 tiles
    assert len(groups["low"]) == 9


def test_version_zero_of_a_large_image_is_low_levels_plus_2x2_blocks_per_level():
    grid = Grid(3000, 2000, 256)  # 12x8 tiles at level 12
    groups = group_tiles(grid, every_tile(grid))
    assert low_top(grid) == 10  # 3x2 tiles; level 11 is 6x4 = 24 tiles
    assert groups["low"] == sorted(t for t in every_tile(grid) if 8 <= t.level <= 10)
    assert groups["11-2-1"] == [Tile(11, 4, 2), Tile(11, 4, 3), Tile(11, 5, 2), Tile(11, 5, 3)]
    assert groups["12-5-3"] == [Tile(12, 10, 6), Tile(12, 10, 7), Tile(12, 11, 6), Tile(12, 11, 7)]
    assert len(groups) == 1 + 3 * 2 + 6 * 4  # low, level 11, level 12


def test_a_patch_is_its_changed_blocks_their_chains_and_the_low_levels():
    grid = Grid(3000, 2000, 256)
    changed = [Tile(12, 3, 1), Tile(12, 2, 0), Tile(12, 9, 7)]
    computed = [*changed, *ancestors_of(grid, changed)]
    groups = group_tiles(grid, computed)
    assert groups == {
        "12-1-0": [Tile(12, 2, 0), Tile(12, 3, 1)],
        "12-4-3": [Tile(12, 9, 7)],
        "chain-1-0": [Tile(11, 1, 0)],
        "chain-4-3": [Tile(11, 4, 3)],
        "low": [Tile(8, 0, 0), Tile(9, 0, 0), Tile(9, 1, 0), Tile(10, 0, 0), Tile(10, 2, 1)],
    }


def test_k_changed_tiles_make_at_most_2k_plus_1_archives_and_hold_each_tile_once():
    grid = Grid(16384, 16384, 256)
    changed = [Tile(14, col, row) for col, row in [(0, 0), (63, 63), (17, 40), (18, 41), (40, 2)]]
    computed = set(changed) | set(ancestors_of(grid, changed))
    groups = group_tiles(grid, computed)
    assert len(groups) <= 2 * len(changed) + 1
    held = [tile for tiles in groups.values() for tile in tiles]
    assert sorted(held) == sorted(t for t in computed if t.level >= one_tile_level(grid))
