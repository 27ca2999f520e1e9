"""Zoomify: ``ImageProperties.xml`` plus ``TileGroup{N}/{tier}-{col}-{row}.{ext}``, 256 tiles a group.

Tiers are the full image halved, rounding down, until it fits one tile; tier 0 is the smallest.
Tiles are numbered through all tiers, smallest first, row by row, and tile ``n`` lives in
``TileGroup{n // 256}``. This is the rule OpenSeadragon implements, and OpenLayers' option
``tierSizeCalculation: "truncated"`` (added to match the Zoomify Converter). libvips and
OpenLayers' default round up instead, which gives one tier more for sizes just above a tile size
times a power of two (513, 1025 to 1027 for 256-pixel tiles...).

Deep Zoom rounds level sizes *up*, so a tier can be one pixel narrower (or shorter) than the DZI
level of the same scale. Every Zoomify tile is still linked to the DZI tile of the same scale and
place: an edge tile then carries one extra column (or row) of partial pixels, which viewers scale
into the tile's place exactly as they do for the DZI. Where the rounded-up level has one more
column or row of tiles than the tier (a level 256n + 1 pixels wide), that 1-pixel tile is
published too, numbered by the same formula, because OpenSeadragon counts tiles on the rounded-up
size and requests it. With ``overlap`` >= 1 the links go to dzbuild's overlap-free core tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from dzbuild.api import hookimpl

dzbuild_api = "1.0"  # the dzbuild.api version this plugin is written for

PROPERTIES_FILE = "ImageProperties.xml"
TILES_PER_GROUP = 256


@dataclass(frozen=True)
class Tiers:
    """The Zoomify tier geometry of one image, smallest tier first."""

    first_level: int  # the DZI level at the scale of tier 0
    tile_size: int
    sizes: tuple[tuple[int, int], ...]  # pixel size of each tier, rounded down
    columns: tuple[int, ...]  # tiles per row of each tier
    offsets: tuple[int, ...]  # tiles in all smaller tiers: the number of each tier's first tile

    @property
    def tile_count(self) -> int:
        """NUMTILES: every tile of every tier, as the rounded-down sizes count them."""
        return self.offsets[-1] + self.columns[-1] * _ceil_div(self.sizes[-1][1], self.tile_size)

    def number(self, tier: int, col: int, row: int) -> int:
        return self.offsets[tier] + self.columns[tier] * row + col


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@lru_cache(maxsize=64)
def tiers_of(width: int, height: int, tile_size: int, max_level: int) -> Tiers:
    """Halve (rounding down) until the image fits one tile; count tiles on each tier."""
    sizes = [(width, height)]
    while sizes[-1][0] > tile_size or sizes[-1][1] > tile_size:
        w, h = sizes[-1]
        sizes.append((w // 2, h // 2))
    sizes.reverse()
    columns = tuple(_ceil_div(w, tile_size) for w, _ in sizes)
    offsets = [0]
    for (_, h), cols in zip(sizes[:-1], columns, strict=False):  # every tier but the last
        offsets.append(offsets[-1] + cols * _ceil_div(h, tile_size))
    return Tiers(max_level - (len(sizes) - 1), tile_size, tuple(sizes), columns, tuple(offsets))


def tiers_for(grid) -> Tiers:
    return tiers_of(grid.width, grid.height, grid.tile_size, grid.max_level)


class ZoomifyFormat:
    name = "zoomify"
    label = "Zoomify"  # how pages name the link to a version's ImageProperties.xml
    descriptor = PROPERTIES_FILE

    def dirs(self, grid) -> list[str]:
        tiers = tiers_for(grid)
        last = 0
        for tier in range(len(tiers.sizes)):  # the highest number is a tier's last tile, extras included
            cols, rows = grid.tile_counts(tiers.first_level + tier)
            last = max(last, tiers.number(tier, cols - 1, rows - 1))
        return [f"TileGroup{group}" for group in range(last // TILES_PER_GROUP + 1)]

    def tile_path(self, grid, tile, ext: str) -> str | None:
        tiers = tiers_for(grid)
        tier = tile.level - tiers.first_level
        if tier < 0:  # DZI levels smaller than one tile: Zoomify stops at the first tier that fits
            return None
        group = tiers.number(tier, tile.col, tile.row) // TILES_PER_GROUP
        return f"TileGroup{group}/{tier}-{tile.col}-{tile.row}.{ext}"

    def descriptors(self, spec, grid, context) -> dict[str, bytes]:
        tiers = tiers_for(grid)
        xml = (
            f'<IMAGE_PROPERTIES WIDTH="{spec.width}" HEIGHT="{spec.height}" NUMTILES="{tiers.tile_count}"'
            f' NUMIMAGES="1" VERSION="1.8" TILESIZE="{spec.tile_size}" />\n'
        )
        return {PROPERTIES_FILE: xml.encode("utf-8")}

    def viewer_source(self, descriptor_url: str, spec) -> dict:
        """OpenSeadragon's Zoomify source reads no descriptor: it takes the size and the tiles' folder."""
        folder = descriptor_url[: -len(PROPERTIES_FILE)]
        return {"type": "zoomifytileservice", "width": spec.width, "height": spec.height,
                "tileSize": spec.tile_size, "fileFormat": spec.format, "tilesUrl": folder}


@hookimpl
def register_formats(register):
    register(ZoomifyFormat())
