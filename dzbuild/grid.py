"""All tile math of a Deep Zoom pyramid: levels, sizes, parents, children and Morton order.

Coordinates follow DZI: ``col`` is x, ``row`` is y, level 0 is a single pixel and level
``max_level`` is the full-resolution image. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from typing import Iterable, Iterator, NamedTuple


class Tile(NamedTuple):
    """One tile of one level; hashable, so sets of tiles and their parents stay cheap."""

    level: int
    col: int
    row: int

    def parent(self) -> "Tile":
        return Tile(self.level - 1, self.col // 2, self.row // 2)


class Size(NamedTuple):
    width: int
    height: int


Owners = tuple[tuple[int, ...], ...]  # per level, row-major (``Grid.index``): the version holding each tile


def max_level_for(width: int, height: int) -> int:
    """The DZI max level: ceil(log2(longest side)), computed exactly on integers."""
    return (max(width, height) - 1).bit_length()


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Grid:
    """The geometry of one pyramid, computed once and read-only afterwards."""

    width: int
    height: int
    tile_size: int
    max_level: int = field(init=False)
    level_sizes: tuple[Size, ...] = field(init=False, repr=False)
    level_grids: tuple[Size, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1 or self.tile_size < 1:
            raise ValueError(f"grid needs positive sizes, got {self.width}x{self.height} tile {self.tile_size}")
        top = max_level_for(self.width, self.height)
        sizes = tuple(
            Size(ceil_div(self.width, 1 << (top - level)), ceil_div(self.height, 1 << (top - level)))
            for level in range(top + 1)
        )
        grids = tuple(Size(ceil_div(w, self.tile_size), ceil_div(h, self.tile_size)) for w, h in sizes)
        object.__setattr__(self, "max_level", top)
        object.__setattr__(self, "level_sizes", sizes)
        object.__setattr__(self, "level_grids", grids)

    @property
    def levels(self) -> range:
        return range(self.max_level + 1)

    def level_size(self, level: int) -> Size:
        """Pixel size of a whole level."""
        return self.level_sizes[level]

    def tile_counts(self, level: int) -> Size:
        """How many columns and rows of tiles a level has."""
        return self.level_grids[level]

    def tile_count(self, level: int) -> int:
        cols, rows = self.level_grids[level]
        return cols * rows

    @property
    def total_tiles(self) -> int:
        return sum(self.tile_count(level) for level in self.levels)

    def contains(self, tile: Tile) -> bool:
        if not 0 <= tile.level <= self.max_level:
            return False
        cols, rows = self.level_grids[tile.level]
        return 0 <= tile.col < cols and 0 <= tile.row < rows

    def tile_bounds(self, tile: Tile) -> tuple[int, int, int, int]:
        """Pixel box ``(x, y, width, height)`` of a tile within its level (edge tiles are smaller)."""
        level_w, level_h = self.level_sizes[tile.level]
        x, y = tile.col * self.tile_size, tile.row * self.tile_size
        return x, y, min(self.tile_size, level_w - x), min(self.tile_size, level_h - y)

    def overlap_bounds(self, tile: Tile, overlap: int) -> tuple[int, int, int, int]:
        """Pixel box of a tile widened by ``overlap`` on every side that has a neighbour (as DZI viewers expect)."""
        x, y, w, h = self.tile_bounds(tile)
        level_w, level_h = self.level_sizes[tile.level]
        left, top = max(0, x - overlap), max(0, y - overlap)
        return left, top, min(level_w, x + w + overlap) - left, min(level_h, y + h + overlap) - top

    def neighbourhood(self, tile: Tile) -> list[Tile]:
        """The tile and its up-to-eight neighbours on the same level, row by row."""
        cols, rows = self.level_grids[tile.level]
        return [
            Tile(tile.level, col, row)
            for row in range(max(0, tile.row - 1), min(rows, tile.row + 2))
            for col in range(max(0, tile.col - 1), min(cols, tile.col + 2))
        ]

    def tile_size_of(self, tile: Tile) -> Size:
        _, _, w, h = self.tile_bounds(tile)
        return Size(w, h)

    def tiles(self, level: int) -> Iterator[Tile]:
        """Every tile of a level, row by row."""
        cols, rows = self.level_grids[level]
        for row in range(rows):
            for col in range(cols):
                yield Tile(level, col, row)

    def index(self, tile: Tile) -> int:
        """Row-major position of a tile within its level (used by compact per-level tables)."""
        return tile.row * self.level_grids[tile.level].width + tile.col

    def children(self, tile: Tile) -> list[Tile]:
        """The up-to-four tiles of the next level that a tile is made from, as (dx, dy) order 00, 10, 01, 11."""
        if tile.level >= self.max_level:
            return []
        cols, rows = self.level_grids[tile.level + 1]
        found = []
        for dy in (0, 1):
            for dx in (0, 1):
                col, row = 2 * tile.col + dx, 2 * tile.row + dy
                if col < cols and row < rows:
                    found.append(Tile(tile.level + 1, col, row))
        return found

    def ancestors(self, tile: Tile) -> Iterator[Tile]:
        """Parents of a tile up to level 0, nearest first."""
        while tile.level > 0:
            tile = tile.parent()
            yield tile


class TileSet(Set):
    """A set of tiles of one grid, stored as one byte per tile of the grid, level by level.

    The big sets of a build (a first version provides every base tile and computes every
    tile above) would cost ~150 bytes per tile as a ``frozenset``; here they cost one, so the
    build's memory does not grow with the image. Compares and combines like any set.
    """

    __slots__ = ("grid", "_bits", "_count")

    def __init__(self, grid: Grid, tiles: Iterable[Tile] = ()) -> None:
        self.grid = grid
        self._bits = [bytearray(grid.tile_count(level)) for level in grid.levels]
        self._count = 0
        for tile in tiles:
            self.add(tile)

    @classmethod
    def whole_levels(cls, grid: Grid, levels: Iterable[int]) -> "TileSet":
        """Every tile of ``levels``."""
        tiles = cls(grid)
        for level in levels:
            tiles._bits[level] = bytearray(b"\x01") * grid.tile_count(level)
            tiles._count += grid.tile_count(level)
        return tiles

    @classmethod
    def _from_iterable(cls, tiles: Iterable[Tile]) -> frozenset:
        return frozenset(tiles)  # what ``|``, ``&`` and ``-`` return: the grid is not known here

    def add(self, tile: Tile) -> None:
        if not self.grid.contains(tile):
            raise ValueError(f"{tile} is outside the grid")
        bits, index = self._bits[tile.level], self.grid.index(tile)
        if not bits[index]:
            bits[index] = 1
            self._count += 1

    def __contains__(self, tile: object) -> bool:
        try:
            return self.grid.contains(tile) and self._bits[tile.level][self.grid.index(tile)] == 1
        except AttributeError:  # not a tile
            return False

    def __iter__(self) -> Iterator[Tile]:
        """Level by level from level 0, row by row: the order of the owners table."""
        for level, bits in enumerate(self._bits):
            cols = self.grid.tile_counts(level).width
            index = bits.find(1)
            while index >= 0:
                yield Tile(level, index % cols, index // cols)
                index = bits.find(1, index + 1)

    def __len__(self) -> int:
        return self._count

    def count(self, level: int) -> int:
        """How many tiles of ``level`` the set holds."""
        return self._bits[level].count(1)

    def __repr__(self) -> str:
        return f"TileSet({len(self)} tiles of {self.grid})"


def ancestors_of(grid: Grid, tiles: Iterable[Tile]) -> TileSet:
    """Every ancestor of every tile of ``tiles`` (not the tiles themselves)."""
    found = TileSet(grid)
    for tile in tiles:
        while tile.level > 0:
            tile = tile.parent()
            if tile in found:
                break  # its ancestors are in already
            found.add(tile)
    return found


# -- Morton (Z-order) layout used by Deep Zoom collections ---------------------------------


def morton_to_xy(n: int) -> tuple[int, int]:
    """Item number to (column, row): the column takes the even bits of n, the row the odd bits."""
    if n < 0:
        raise ValueError("Morton numbers are non-negative")
    col = row = 0
    bit = 0
    while n:
        col |= (n & 1) << bit
        row |= ((n >> 1) & 1) << bit
        n >>= 2
        bit += 1
    return col, row


def xy_to_morton(col: int, row: int) -> int:
    """(column, row) back to the item number: interleave the bits, column first."""
    if col < 0 or row < 0:
        raise ValueError("Morton coordinates are non-negative")
    n = 0
    bit = 0
    while col or row:
        n |= (col & 1) << (2 * bit)
        n |= (row & 1) << (2 * bit + 1)
        col >>= 1
        row >>= 1
        bit += 1
    return n


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def log2_exact(n: int) -> int:
    if not is_power_of_two(n):
        raise ValueError(f"{n} is not a power of two")
    return n.bit_length() - 1


__all__ = [
    "Grid",
    "Size",
    "Tile",
    "TileSet",
    "ancestors_of",
    "ceil_div",
    "is_power_of_two",
    "log2_exact",
    "max_level_for",
    "morton_to_xy",
    "xy_to_morton",
]
