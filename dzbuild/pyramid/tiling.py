"""Cut full-resolution pixels into the base tiles of a pyramid (the reverse of what viewers do)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from ..grid import Grid, Tile
from ..io import codec
from .spec import SPEC_FILE, PyramidSpec


def base_tile(pixels, grid: Grid, tile: Tile):
    """The pixels of one base-level tile, a view into ``pixels`` (no copy)."""
    x, y, w, h = grid.tile_bounds(tile)
    return pixels[y : y + h, x : x + w]


def write_spec(image_dir: Path, spec: PyramidSpec) -> None:
    image_dir.mkdir(parents=True, exist_ok=True)
    (image_dir / SPEC_FILE).write_text(json.dumps(spec.to_dict(), indent=2) + "\n", encoding="utf-8")


def write_tiles(version_dir: Path, pixels, spec: PyramidSpec, tiles: Iterable[Tile] | None = None) -> list[Tile]:
    """Encode base tiles of ``pixels`` into ``version_dir`` (all of them unless ``tiles`` is given)."""
    grid = spec.grid
    version_dir.mkdir(parents=True, exist_ok=True)
    chosen = list(grid.tiles(grid.max_level) if tiles is None else tiles)
    for tile in chosen:
        data = codec.encode(base_tile(pixels, grid, tile), spec.format, spec.quality)
        (version_dir / f"{tile.col}_{tile.row}.{spec.format}").write_bytes(data)
    return chosen
