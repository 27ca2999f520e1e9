"""Where items sit in a Deep Zoom Collection: Morton cells and the shared tiles that hold them. No I/O.

At collection level ``L`` every item is its own level-``L`` image (at most ``2**L`` pixels on its
long side) drawn at the top-left of a ``2**L`` square cell. Item ``N`` takes the cell at the Morton
position of ``N`` (column from its even bits, row from its odd bits). A tile of ``tile_size``
pixels holds ``k x k`` cells with ``k = tile_size >> L``; because ``k`` is a power of two, the items
of one tile are the contiguous run ``m*k*k .. (m+1)*k*k - 1`` where ``m`` is the tile's own Morton
number. So every item lies in exactly one tile per level, and a tile is named by ``(level, m)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import ConfigError
from ..grid import is_power_of_two, log2_exact, max_level_for, morton_to_xy

MAX_TILE_SIZE = 4096


class CollectionTile(NamedTuple):
    """One shared tile: its level and its Morton number within the level."""

    level: int
    m: int

    @property
    def col(self) -> int:
        return morton_to_xy(self.m)[0]

    @property
    def row(self) -> int:
        return morton_to_xy(self.m)[1]


@dataclass(frozen=True)
class MortonLayout:
    """The geometry every version of one collection shares: tile size and deepest shared level."""

    tile_size: int = 256
    max_level: int = 8

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, path: Path | str | None = None) -> None:
        """Refuse a tile size that is not a power of two or cannot hold one cell of ``max_level``."""
        size, top = self.tile_size, self.max_level
        if isinstance(size, bool) or not isinstance(size, int) or not is_power_of_two(size) or size > MAX_TILE_SIZE:
            raise ConfigError(f"collection tile_size must be a power of two up to {MAX_TILE_SIZE}, got {size!r}", path)
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ConfigError(f"collection max_level must be a non-negative integer, got {top!r}", path)
        if 1 << top > size:
            raise ConfigError(
                f"collection tile_size {size} is smaller than 2^max_level = {1 << top}: "
                f"use tile_size >= {1 << top} or max_level <= {log2_exact(size)}",
                path,
            )

    @property
    def levels(self) -> range:
        return range(self.max_level + 1)

    def cell_size(self, level: int) -> int:
        return 1 << level

    def cells_per_side(self, level: int) -> int:
        """How many cells a tile holds along each side at ``level``."""
        return self.tile_size >> level

    def items_per_tile(self, level: int) -> int:
        return self.cells_per_side(level) ** 2

    def tile_of(self, item: int, level: int) -> CollectionTile:
        return CollectionTile(level, item // self.items_per_tile(level))

    def offset_in_tile(self, item: int, level: int) -> tuple[int, int]:
        """Pixel position ``(x, y)`` of an item's cell inside its tile."""
        col, row = morton_to_xy(item)
        per_side, cell = self.cells_per_side(level), self.cell_size(level)
        return (col % per_side) * cell, (row % per_side) * cell

    def items_of(self, tile: CollectionTile) -> range:
        per_tile = self.items_per_tile(tile.level)
        return range(tile.m * per_tile, (tile.m + 1) * per_tile)

    def tiles_per_level(self, next_id: int, level: int) -> int:
        """How many Morton tile numbers ``0..n-1`` can hold items ``0..next_id-1``."""
        per_tile = self.items_per_tile(level)
        return -(-next_id // per_tile)

    def tiles_holding(self, items: Iterable[int], level: int) -> set[CollectionTile]:
        """The tiles of ``level`` whose cells hold at least one of ``items``."""
        per_tile = self.items_per_tile(level)
        return {CollectionTile(level, item // per_tile) for item in items}

    def tile_path(self, name: str, tile: CollectionTile, ext: str = "jpg") -> str:
        """Path of a tile relative to the version folder, ``{name}_files/{level}/{col}_{row}.{ext}``."""
        col, row = morton_to_xy(tile.m)
        return f"{name}_files/{tile.level}/{col}_{row}.{ext}"


def item_level_size(width: int, height: int, level: int) -> tuple[int, int]:
    """Size of an item's own DZI level ``min(level, its max level)``: what its cell shows."""
    shift = max(0, max_level_for(width, height) - level)
    return -(-width // (1 << shift)), -(-height // (1 << shift))

