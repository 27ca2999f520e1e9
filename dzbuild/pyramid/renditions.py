"""Whole-image pictures at sizes no pyramid level has (``api.HasRenditions``), made from a version's tiles.

A rendition depends on nothing but the encoded tiles of its version, as they lie on disk: a level
at least twice as large is stitched from its tiles, resized with area averaging and encoded like
the tiles. So an incremental build, a build from scratch and a later backfill of the
format give the same bytes, and ``dzbuild check --deep`` can recompute each picture. Every version
writes its own copy: the picture changes whenever any tile does, and a version folder never
points into another for it.
"""

from __future__ import annotations

from typing import Callable

from ..api import HasRenditions
from ..errors import PluginError
from ..grid import Grid, Size, Tile
from ..heavy import cv
from ..io import codec
from ..plugins import capability


def renditions_of(fmt, grid: Grid, ext: str) -> dict[str, tuple[int, int]]:
    """A format's whole-image pictures, ``{path: (width, height)}``; most formats have none.

    What a plugin names is checked before anything is written: a path that leaves the version
    folder or a size outside the image is a ``PluginError`` naming the format.
    """
    having = capability(fmt, HasRenditions)
    if having is None:
        return {}
    named = {}
    for rel, size in having.renditions(grid, ext).items():
        problem = _path_problem(rel) or _size_problem(size, grid)
        if problem:
            raise PluginError(f"format {fmt.name!r} names the rendition {rel!r} {problem} (HasRenditions)")
        named[rel] = (size[0], size[1])
    return named


def _path_problem(rel) -> str | None:
    if not isinstance(rel, str) or rel.startswith("/") or any(part in ("", ".", "..") for part in rel.split("/")):
        return "at a path that is not a relative path inside the version folder"
    return None


def _size_problem(size, grid: Grid) -> str | None:
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(type(n) is int for n in size)):
        return f"with the size {size!r}, not (width, height) in whole pixels"
    if not (0 < size[0] <= grid.width and 0 < size[1] <= grid.height):
        return f"at {size[0]}x{size[1]}, which is not within the {grid.width}x{grid.height} image"
    return None


def source_level(grid: Grid, size: tuple[int, int]) -> int:
    """The coarsest level at least twice ``size`` each way, or the image itself when none is.

    Each picture pixel then averages at least 2x2 level pixels: the uneven weights that halving an
    odd edge leaves in a level (its last pixel is averaged with itself) fade, where resizing from
    a level barely larger keeps them (about 26 dB on a 4097x9 strip instead of 52).
    """
    width, height = size
    fits = (level for level in grid.levels if _covers(grid.level_size(level), 2 * width, 2 * height))
    return next(fits, grid.max_level)


def _covers(level_size: Size, width: int, height: int) -> bool:
    return level_size[0] >= width and level_size[1] >= height


def render(grid: Grid, size: tuple[int, int], ext: str, quality: int, read: Callable[[Tile], str]) -> bytes:
    """The encoded whole image at ``size``; ``read(tile)`` is the path of a tile's file.

    A level rounds its size up (1001 px at scale 1/8 is 126 px, standing for 1008), so it is scaled
    by the exact factor ``size`` has to the full image, not stretched to ``size``, and the result
    cut to ``size``: stretching would shift the far edge by up to half a pixel.
    """
    level = source_level(grid, size)
    canvas = codec.blank(*grid.level_size(level))
    for tile in grid.tiles(level):
        path = read(tile)
        with open(path, "rb") as handle:
            pixels = codec.decode(handle.read(), path)
        x, y = tile.col * grid.tile_size, tile.row * grid.tile_size
        canvas[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
    width, height = size
    shrink = 1 << (grid.max_level - level)
    cv2 = cv()
    scaled = cv2.resize(canvas, None, fx=width * shrink / grid.width, fy=height * shrink / grid.height,
                        interpolation=cv2.INTER_AREA)
    return codec.encode(scaled[:height, :width], ext, quality)


def make_renditions(fmt, grid: Grid, ext: str, quality: int, read: Callable[[Tile], str]) -> dict[str, bytes]:
    """``{path: bytes}`` of every rendition ``fmt`` names, each size computed once."""
    pictures: dict[tuple[int, int], bytes] = {}
    made = {}
    for path, size in renditions_of(fmt, grid, ext).items():
        if size not in pictures:
            pictures[size] = render(grid, size, ext, quality, read)
        made[path] = pictures[size]
    return made
