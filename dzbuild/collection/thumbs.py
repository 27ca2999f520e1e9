"""An item's level-L image, taken from the member's own published DZI tiles.

The thumbnails of a collection are never resampled from the full image again: the member's
pyramid already holds every level, so the item's level ``min(L, member max level)`` is read
as it lies on disk, stitching tiles when the member's tile size is smaller than the cell.
Decoding stored bytes is deterministic, which keeps incremental and from-scratch builds identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import SourceError
from ..grid import Grid
from ..io import codec
from ..pyramid.formats import deep_zoom
from .planner import Member


@dataclass(frozen=True)
class Piece:
    """One member tile: its file, where it goes in the item image, and the overlap to cut off."""

    path: str
    x: int
    y: int
    width: int
    height: int
    crop_x: int
    crop_y: int


@dataclass(frozen=True)
class ItemImage:
    """Plain, picklable description of one item's image at one level."""

    width: int
    height: int
    pieces: tuple[Piece, ...]


@lru_cache(maxsize=4096)
def _grid(width: int, height: int, tile_size: int) -> Grid:
    return Grid(width, height, tile_size)


def item_image(member: Member, dest: str, level: int) -> ItemImage:
    """Which member tiles make the item's image at collection level ``level`` (``dest``: the member's folder)."""
    grid = _grid(member.width, member.height, member.tile_size)
    own_level = min(level, grid.max_level)
    fmt = deep_zoom()
    folder = f"{dest}/{fmt.name}/v{member.version}"
    pieces = []
    for tile in grid.tiles(own_level):
        x, y, w, h = grid.tile_bounds(tile)
        crop_x = member.overlap if tile.col else 0
        crop_y = member.overlap if tile.row else 0
        path = f"{folder}/{fmt.tile_path(grid, tile, member.format)}"
        pieces.append(Piece(path, x, y, w, h, crop_x, crop_y))
    width, height = grid.level_size(own_level)
    return ItemImage(width, height, tuple(pieces))


def load_item_image(image: ItemImage):
    """Decode and stitch the pieces into one ``height x width`` BGR array."""
    if len(image.pieces) == 1 and not (image.pieces[0].crop_x or image.pieces[0].crop_y):
        piece = image.pieces[0]
        pixels = _decode(piece)
        return _checked(pixels, piece)[: piece.height, : piece.width]
    canvas = codec.blank(image.width, image.height)
    for piece in image.pieces:
        pixels = _checked(_decode(piece), piece)
        canvas[piece.y : piece.y + piece.height, piece.x : piece.x + piece.width] = pixels[
            piece.crop_y : piece.crop_y + piece.height, piece.crop_x : piece.crop_x + piece.width
        ]
    return canvas


def _decode(piece: Piece):
    try:
        with open(piece.path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise SourceError("member tile is missing from its published DZI", piece.path) from None
    return codec.decode(data, piece.path)


def _checked(pixels, piece: Piece):
    height, width = pixels.shape[:2]
    if width < piece.crop_x + piece.width or height < piece.crop_y + piece.height:
        raise SourceError(
            f"member tile is {width}x{height} pixels, smaller than its place in the DZI"
            f" ({piece.crop_x + piece.width}x{piece.crop_y + piece.height})",
            piece.path,
        )
    return pixels
