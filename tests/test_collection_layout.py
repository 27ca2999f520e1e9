"""Morton layout of collection items: the seed's table, round trips, and which tile holds each cell."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dzbuild.collection.layout import CollectionTile, MortonLayout, item_level_size
from dzbuild.errors import ConfigError
from dzbuild.grid import morton_to_xy, xy_to_morton

# The layout table of the collections design note, row by row.
SEED_TABLE = [
    [0, 1, 4, 5, 16, 17],
    [2, 3, 6, 7, 18, 19],
    [8, 9, 12, 13],
    [10, 11, 14, 15],
]

layouts = st.integers(0, 12).flatmap(
    lambda top: st.builds(MortonLayout, st.integers(top, 12).map(lambda k: 1 << k), st.just(top))
)


def test_seed_table():
    for row, numbers in enumerate(SEED_TABLE):
        for col, n in enumerate(numbers):
            assert morton_to_xy(n) == (col, row)
            assert xy_to_morton(col, row) == n


def test_seed_worked_example():
    """Item 5 = 0b101: even bits 0b11 give column 3, odd bits 0b0 give row 0."""
    assert morton_to_xy(5) == (3, 0)


@given(st.integers(0, 2**64))
def test_morton_round_trip(n):
    assert xy_to_morton(*morton_to_xy(n)) == n


@given(st.integers(0, 2**32), st.integers(0, 2**32))
def test_xy_round_trip(col, row):
    assert morton_to_xy(xy_to_morton(col, row)) == (col, row)


@given(layouts, st.integers(0, 10**6), st.data())
def test_every_item_lies_in_exactly_its_tile(layout, n, data):
    level = data.draw(st.integers(0, layout.max_level))
    tile = layout.tile_of(n, level)
    assert n in layout.items_of(tile)
    x, y = layout.offset_in_tile(n, level)
    cell = 1 << level
    assert 0 <= x <= layout.tile_size - cell and 0 <= y <= layout.tile_size - cell
    col, row = morton_to_xy(n)  # the cell's pixel position in the whole level
    assert (tile.col * layout.tile_size + x, tile.row * layout.tile_size + y) == (col * cell, row * cell)


def test_exact_tiles_at_256():
    layout = MortonLayout(256, 8)
    assert layout.tile_of(5, 8) == CollectionTile(8, 5)  # one item per tile at the deepest level
    assert layout.tile_path("g", layout.tile_of(5, 8)) == "g_files/8/3_0.jpg"
    assert layout.tile_of(5, 7) == CollectionTile(7, 1) and layout.offset_in_tile(5, 7) == (128, 0)
    assert layout.tile_path("g", CollectionTile(7, 1)) == "g_files/7/1_0.jpg"
    assert layout.items_of(CollectionTile(6, 1)) == range(16, 32)
    assert layout.offset_in_tile(19, 6) == (64, 64)
    assert layout.tiles_per_level(1000, 3) == 1 and layout.tiles_per_level(1000, 5) == 16
    assert layout.tiles_per_level(1000, 6) == 63
    assert CollectionTile(8, xy_to_morton(3, 0)) == CollectionTile(8, 5)


def test_tiles_holding():
    layout = MortonLayout(256, 8)
    assert layout.tiles_holding([0, 3, 4], 7) == {CollectionTile(7, 0), CollectionTile(7, 1)}
    assert layout.tiles_holding([0, 3, 4], 0) == {CollectionTile(0, 0)}


@pytest.mark.parametrize(
    "size, level, expected",
    [((300, 200), 8, (150, 100)), ((300, 200), 9, (300, 200)), ((300, 200), 12, (300, 200)),
     ((300, 200), 0, (1, 1)), ((64, 90), 7, (64, 90)), ((64, 90), 6, (32, 45)), ((257, 31), 2, (3, 1))],
)  # fmt: skip
def test_item_level_size(size, level, expected):
    assert item_level_size(*size, level) == expected


@pytest.mark.parametrize(
    "tile_size, max_level, message",
    [(100, 6, "power of two"), (128, 8, "smaller than 2^max_level = 256"), (256, -1, "non-negative"),
     (1 << 13, 8, "up to 4096"), (True, 0, "power of two")],
)  # fmt: skip
def test_invalid_layouts(tile_size, max_level, message):
    with pytest.raises(ConfigError, match=message.replace("^", r"\^")):
        MortonLayout(tile_size, max_level)
