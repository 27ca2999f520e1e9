"""Tile math: exact numbers for odd sizes, structural properties, and a float reference implementation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dzbuild.grid import (
    Grid,
    Tile,
    ancestors_of,
    ceil_div,
    is_power_of_two,
    log2_exact,
    max_level_for,
    morton_to_xy,
    xy_to_morton,
)

sides = st.integers(1, 20000)
tile_sizes = st.integers(1, 512)


@st.composite
def grids(draw, max_side: int = 20000, max_tiles: int = 4096):
    """A grid whose full-resolution level has at most ``max_tiles`` tiles, so walking it stays cheap."""
    width = draw(st.integers(1, max_side))
    height = draw(st.integers(1, max_side))
    floor = math.isqrt(width * height // max_tiles) + 1
    tile = draw(st.integers(min(floor, 512), 512))
    grid = Grid(width, height, tile)
    if grid.tile_count(grid.max_level) > max_tiles:  # long thin images at tile 512
        grid = Grid(width, height, max(width, height) // 8 + 1)
    return grid


@st.composite
def tiles_of(draw, grid: Grid) -> Tile:
    level = draw(st.integers(0, grid.max_level))
    cols, rows = grid.tile_counts(level)
    return Tile(level, draw(st.integers(0, cols - 1)), draw(st.integers(0, rows - 1)))


# -- Exact expected numbers ---------------------------------------------------------------------


def test_one_pixel_image_is_a_single_level():
    grid = Grid(1, 1, 1)
    assert grid.max_level == 0
    assert grid.level_size(0) == (1, 1)
    assert grid.tile_counts(0) == (1, 1)
    assert list(grid.tiles(0)) == [Tile(0, 0, 0)]
    assert grid.children(Tile(0, 0, 0)) == []
    assert grid.total_tiles == 1


def test_750x500_in_250_tiles_matches_the_seed():
    grid = Grid(750, 500, 250)
    assert grid.max_level == 10
    sizes = [(1, 1), (2, 1), (3, 2), (6, 4), (12, 8), (24, 16), (47, 32), (94, 63), (188, 125), (375, 250), (750, 500)]
    assert [tuple(grid.level_size(level)) for level in grid.levels] == sizes
    assert grid.tile_counts(10) == (3, 2)
    assert grid.tile_counts(9) == (2, 1)
    assert all(grid.tile_counts(level) == (1, 1) for level in range(9))
    assert grid.tile_size_of(Tile(10, 2, 1)) == (250, 250)
    assert grid.tile_size_of(Tile(9, 1, 0)) == (125, 250)  # the only edge tile of level 9
    assert grid.tile_bounds(Tile(9, 1, 0)) == (250, 0, 125, 250)
    assert grid.tile_size_of(Tile(8, 0, 0)) == (188, 125)
    assert grid.total_tiles == 6 + 2 + 9


def test_1x1000_is_one_pixel_wide_at_every_level():
    grid = Grid(1, 1000, 256)
    assert grid.max_level == 10
    heights = [1, 2, 4, 8, 16, 32, 63, 125, 250, 500, 1000]
    assert [tuple(grid.level_size(level)) for level in grid.levels] == [(1, h) for h in heights]
    assert grid.tile_counts(10) == (1, 4)
    assert grid.tile_size_of(Tile(10, 0, 3)) == (1, 1000 - 3 * 256)
    assert grid.tile_counts(9) == (1, 2)
    assert grid.tile_size_of(Tile(9, 0, 1)) == (1, 500 - 256)
    assert grid.tile_counts(8) == (1, 1)


def test_257x255_in_64_tiles_has_one_pixel_edge_tiles():
    grid = Grid(257, 255, 64)
    assert grid.max_level == 9  # 257 needs one more level than 256
    sizes = [(1, 1), (2, 1), (3, 2), (5, 4), (9, 8), (17, 16), (33, 32), (65, 64), (129, 128), (257, 255)]
    assert [tuple(grid.level_size(level)) for level in grid.levels] == sizes
    assert grid.tile_counts(9) == (5, 4)
    assert grid.tile_size_of(Tile(9, 4, 3)) == (1, 63)
    assert grid.tile_size_of(Tile(9, 4, 0)) == (1, 64)
    assert grid.tile_size_of(Tile(9, 0, 3)) == (64, 63)
    assert grid.tile_counts(8) == (3, 2)
    assert grid.tile_size_of(Tile(8, 2, 1)) == (1, 64)
    assert grid.tile_counts(7) == (2, 1)
    assert grid.tile_size_of(Tile(7, 1, 0)) == (1, 64)
    assert grid.total_tiles == 20 + 6 + 2 + 7


def test_16384_square_in_256_tiles():
    grid = Grid(16384, 16384, 256)
    assert grid.max_level == 14
    assert grid.level_size(14) == (16384, 16384)
    assert grid.level_size(8) == (256, 256)
    assert [grid.tile_counts(level) for level in range(8, 15)] == [(n, n) for n in (1, 2, 4, 8, 16, 32, 64)]
    assert grid.total_tiles == 4096 + 1024 + 256 + 64 + 16 + 4 + 1 + 8
    assert grid.tile_size_of(Tile(14, 63, 63)) == (256, 256)


@pytest.mark.parametrize(
    ("side", "level"), [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (255, 8), (256, 8), (257, 9), (1000, 10), (1025, 11)]
)
def test_max_level_is_ceil_log2_of_the_longest_side(side, level):
    assert max_level_for(side, 1) == level
    assert max_level_for(1, side) == level
    assert Grid(side, 1, 7).max_level == level


@pytest.mark.parametrize("tile_size", [1, 2, 3, 7, 64, 127, 255, 256, 257, 511, 512])
def test_tile_counts_of_750x500_for_many_tile_sizes(tile_size):
    grid = Grid(750, 500, tile_size)
    assert grid.tile_counts(10) == (ceil_div(750, tile_size), ceil_div(500, tile_size))
    last = Tile(10, *(n - 1 for n in grid.tile_counts(10)))
    assert grid.tile_size_of(last) == (750 - last.col * tile_size, 500 - last.row * tile_size)


@pytest.mark.parametrize(("width", "height", "tile"), [(0, 1, 1), (1, 0, 1), (1, 1, 0), (-5, 5, 5)])
def test_non_positive_sizes_are_refused(width, height, tile):
    with pytest.raises(ValueError):
        Grid(width, height, tile)


# -- A straightforward float reference, over many sizes ------------------------------------------


def reference_geometry(width: int, height: int, tile: int):
    """The DZI rules written the obvious way with floats: what the integer code must agree with."""
    top = math.ceil(math.log2(max(width, height)))
    levels = []
    for level in range(top + 1):
        scale = 2.0 ** (top - level)
        w, h = math.ceil(width / scale), math.ceil(height / scale)
        cols, rows = math.ceil(w / tile), math.ceil(h / tile)
        last = (w - (cols - 1) * tile, h - (rows - 1) * tile)
        levels.append(((w, h), (cols, rows), last))
    return top, levels


@settings(max_examples=400, deadline=None)
@given(width=sides, height=sides, tile=tile_sizes)
def test_grid_agrees_with_the_float_reference(width, height, tile):
    grid = Grid(width, height, tile)
    top, levels = reference_geometry(width, height, tile)
    assert grid.max_level == top
    for level, (size, counts, last) in enumerate(levels):
        assert grid.level_size(level) == size
        assert grid.tile_counts(level) == counts
        assert grid.tile_size_of(Tile(level, counts[0] - 1, counts[1] - 1)) == last
    assert grid.level_size(0) == (1, 1)


def test_grid_agrees_with_the_float_reference_exhaustively_for_small_sizes():
    for width in range(1, 70):
        for height in (1, 2, 3, 31, 64, 65, width):
            for tile in (1, 2, 3, 5, 8, 64):
                grid = Grid(width, height, tile)
                top, levels = reference_geometry(width, height, tile)
                assert grid.max_level == top
                assert [(tuple(grid.level_size(n)), tuple(grid.tile_counts(n))) for n in grid.levels] == [
                    (size, counts) for size, counts, _ in levels
                ]


# -- Structural properties -----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.data(), grid=grids())
def test_tiles_of_a_level_cover_it_exactly(data, grid):
    level = data.draw(st.integers(0, grid.max_level))
    width, height = grid.level_size(level)
    cols, rows = grid.tile_counts(level)
    widths = [grid.tile_size_of(Tile(level, col, 0)).width for col in range(cols)]
    heights = [grid.tile_size_of(Tile(level, 0, row)).height for row in range(rows)]
    assert sum(widths) == width and sum(heights) == height
    assert all(w >= 1 for w in widths) and all(h >= 1 for h in heights)
    assert all(w == grid.tile_size for w in widths[:-1]) and all(h == grid.tile_size for h in heights[:-1])
    tiles = list(grid.tiles(level))
    assert len(tiles) == grid.tile_count(level) == cols * rows
    assert sorted(grid.index(t) for t in tiles) == list(range(len(tiles)))


def box(grid: Grid, tile: Tile) -> tuple[int, int, int, int]:
    """A tile's pixel box as (x0, y0, x1, y1), end exclusive."""
    x, y, w, h = grid.tile_bounds(tile)
    return x, y, x + w, y + h


@settings(max_examples=150, deadline=None)
@given(data=st.data(), grid=grids())
def test_children_exactly_tile_twice_the_parent(data, grid):
    parent = data.draw(tiles_of(grid))
    children = grid.children(parent)
    if parent.level == grid.max_level:
        assert children == []
        return
    x0, y0, x1, y1 = box(grid, parent)
    below_w, below_h = grid.level_size(parent.level + 1)
    expected = (2 * x0, 2 * y0, min(2 * x1, below_w), min(2 * y1, below_h))
    assert 1 <= len(children) <= 4
    assert children[0] == Tile(parent.level + 1, 2 * parent.col, 2 * parent.row)
    assert all(grid.contains(c) and c.parent() == parent for c in children)
    boxes = [box(grid, c) for c in children]
    for x0, y0, x1, y1 in boxes:
        assert expected[0] <= x0 and expected[1] <= y0 and x1 <= expected[2] and y1 <= expected[3]
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)  # inside, disjoint (distinct cells), summing to it
    assert area == (expected[2] - expected[0]) * (expected[3] - expected[1])
    offsets = [(c.col - 2 * parent.col, c.row - 2 * parent.row) for c in children]
    assert offsets == sorted(offsets, key=lambda d: (d[1], d[0]))  # order 00, 10, 01, 11 as documented


@settings(max_examples=150, deadline=None)
@given(data=st.data(), grid=grids())
def test_every_tile_lies_inside_its_parent(data, grid):
    tile = data.draw(tiles_of(grid))
    if tile.level == 0:
        assert tile == Tile(0, 0, 0)
        return
    parent = tile.parent()
    assert grid.contains(parent)
    assert tile in grid.children(parent)
    px0, py0, px1, py1 = box(grid, parent)
    x0, y0, x1, y1 = box(grid, tile)
    assert 2 * px0 <= x0 and 2 * py0 <= y0 and x1 <= 2 * px1 and y1 <= 2 * py1


@settings(max_examples=60, deadline=None)
@given(grid=grids(max_side=3000, max_tiles=400))
def test_each_tile_is_the_child_of_exactly_one_tile(grid):
    for level in grid.levels[:-1]:
        children = [c for parent in grid.tiles(level) for c in grid.children(parent)]
        assert len(children) == len(set(children))
        assert set(children) == set(grid.tiles(level + 1))


@settings(max_examples=120, deadline=None)
@given(data=st.data(), grid=grids())
def test_ancestors_climb_to_the_single_top_tile(data, grid):
    tile = data.draw(tiles_of(grid))
    chain = list(grid.ancestors(tile))
    assert [t.level for t in chain] == list(range(tile.level - 1, -1, -1))
    assert all(grid.contains(t) for t in chain)
    assert not chain or chain[-1] == Tile(0, 0, 0)
    for child, parent in zip([tile, *chain], chain, strict=False):  # each tile of the chain and its parent
        assert child in grid.children(parent)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), grid=grids())
def test_the_tiles_and_their_ancestors_are_closed_upwards(data, grid):
    chosen = set(data.draw(st.lists(tiles_of(grid), max_size=12)))
    closure = chosen | set(ancestors_of(grid, chosen))
    expected = set(chosen)
    for tile in chosen:
        expected.update(grid.ancestors(tile))
    assert closure == expected
    assert all(t.parent() in closure for t in closure if t.level > 0)  # closed upwards
    assert chosen <= closure


def test_closure_of_one_base_tile_is_its_path_to_the_top():
    grid = Grid(750, 500, 250)
    closure = {Tile(10, 2, 1)} | set(ancestors_of(grid, {Tile(10, 2, 1)}))
    assert closure == {Tile(10, 2, 1), Tile(9, 1, 0)} | {Tile(level, 0, 0) for level in range(9)}
    assert len(ancestors_of(grid, set())) == 0


# -- Morton order ------------------------------------------------------------------------------------


def test_morton_layout_matches_the_deep_zoom_collection_table():
    table = [
        [0, 1, 4, 5, 16, 17],
        [2, 3, 6, 7, 18, 19],
        [8, 9, 12, 13],
        [10, 11, 14, 15],
    ]
    for row, numbers in enumerate(table):
        for col, n in enumerate(numbers):
            assert morton_to_xy(n) == (col, row)
            assert xy_to_morton(col, row) == n
    assert morton_to_xy(5) == (3, 0)  # the seed's worked example: 5 = 101b -> column 11b, row 0


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 2**40))
def test_morton_round_trip_from_numbers(n):
    assert xy_to_morton(*morton_to_xy(n)) == n


@settings(max_examples=300, deadline=None)
@given(col=st.integers(0, 2**20), row=st.integers(0, 2**20))
def test_morton_round_trip_from_coordinates(col, row):
    n = xy_to_morton(col, row)
    assert morton_to_xy(n) == (col, row)
    assert morton_to_xy(n >> 2) == (col >> 1, row >> 1)  # a quarter of the numbers is one level up


def test_morton_numbers_fill_square_blocks():
    assert sorted(xy_to_morton(c, r) for c in range(8) for r in range(8)) == list(range(64))


def test_morton_refuses_negative_input():
    with pytest.raises(ValueError):
        morton_to_xy(-1)
    with pytest.raises(ValueError):
        xy_to_morton(0, -1)


def test_powers_of_two():
    assert [n for n in range(70) if is_power_of_two(n)] == [1, 2, 4, 8, 16, 32, 64]
    assert log2_exact(1) == 0 and log2_exact(1024) == 10
    with pytest.raises(ValueError):
        log2_exact(12)
