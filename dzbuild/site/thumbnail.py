"""A thumbnail file for an image published only as packs, whose tiles have no files of their own.

Index cards and link previews need a plain image URL. Deep Zoom publishes the one-tile level as a
file; packs do not, so the site copies the latest version's one-tile level from the cache's tile
store to ``IMAGE/thumbnail.{ext}`` beside the image's page: one file per image, not per version.
"""

from __future__ import annotations

from pathlib import Path

from ..grid import Grid, Tile
from ..io.files import write_if_changed
from ..pyramid.formats import DEEP_ZOOM, deep_zoom

NAME = "thumbnail"


def thumbnail_name(ext: str) -> str:
    return f"{NAME}.{ext}"


def one_tile_level(grid: Grid) -> int:
    """The largest level that is a single tile: the thumbnail's."""
    return max(level for level in grid.levels if grid.tile_count(level) == 1)


def write_thumbnail(dest: Path, image_out: Path, spec, home, latest: int) -> str | None:
    """Copy the latest one-tile level from the tile store in ``dest``; return its path relative to
    ``image_out``. Nothing when ``home``, the first published format, gives that tile a file."""
    grid, ext = spec.grid, spec.format
    tile = Tile(one_tile_level(grid), 0, 0)
    if home.tile_path(grid, tile, ext) is not None:
        return None
    source = dest / DEEP_ZOOM / f"v{latest}" / deep_zoom().tile_path(grid, tile, ext)
    write_if_changed(image_out / thumbnail_name(ext), source.read_bytes())
    return thumbnail_name(ext)
