"""Whole-image pictures at sizes no pyramid level has (``api.HasRenditions``), made from a version's tiles.

A rendition depends on nothing but the encoded tiles of its version, as they lie on disk: the
smallest level at least as large is stitched from its tiles, resized with area averaging and
encoded like the tiles. So an incremental build, a build from scratch and a later backfill of the
format give the same bytes, and ``dzbuild check --deep`` can recompute each picture. Every version
writes its own copy: the picture changes whenever any tile does, and a version folder never
points into another for it.
"""

from __future__ import annotations

from typing import Callable

from ..api import HasRenditions
from ..grid import Grid, Size, Tile
from ..heavy import cv
from ..io import codec
from ..plugins import capability


def renditions_of(fmt, grid: Grid, ext: str) -> dict[str, tuple[int, int]]:
    """A format's whole-image pictures, ``{path: (width, height)}``; most formats have none."""
    having = capability(fmt, HasRenditions)
    return having.renditions(grid, ext) if having is not None else {}


def source_level(grid: Grid, size: tuple[int, int]) -> int:
    """The coarsest level at least ``size`` both ways: the fewest tiles to decode, no upscaling."""
    width, height = size
    return next(level for level in grid.levels if _covers(grid.level_size(level), width, height))


def _covers(level_size: Size, width: int, height: int) -> bool:
    return level_size[0] >= width and level_size[1] >= height


def render(grid: Grid, size: tuple[int, int], ext: str, quality: int, read: Callable[[Tile], str]) -> bytes:
    """The encoded whole image at ``size``; ``read(tile)`` is the path of a tile's file."""
    level = source_level(grid, size)
    canvas = codec.blank(*grid.level_size(level))
    for tile in grid.tiles(level):
        path = read(tile)
        with open(path, "rb") as handle:
            pixels = codec.decode(handle.read(), path)
        x, y = tile.col * grid.tile_size, tile.row * grid.tile_size
        canvas[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
    cv2 = cv()
    return codec.encode(cv2.resize(canvas, tuple(size), interpolation=cv2.INTER_AREA), ext, quality)


def make_renditions(fmt, grid: Grid, ext: str, quality: int, read: Callable[[Tile], str]) -> dict[str, bytes]:
    """``{path: bytes}`` of every rendition ``fmt`` names, each size computed once."""
    pictures: dict[tuple[int, int], bytes] = {}
    made = {}
    for path, size in renditions_of(fmt, grid, ext).items():
        if size not in pictures:
            pictures[size] = render(grid, size, ext, quality, read)
        made[path] = pictures[size]
    return made
