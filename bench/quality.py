"""PSNR per level of published pyramids against the exact 2x2-mean pyramid of the original pixels.

The reference is computed in float from the generated full-resolution pixels (before any JPEG),
halving level by level; an odd last row or column is averaged with itself. The base level is
compared strip by strip as the picture is regenerated, so the full image never sits in memory.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from dzbuild.grid import Grid, Tile

TilePath = Callable[[Tile], Path]  # where one pyramid keeps a tile


def dzi_tiles(version_dir: Path) -> TilePath:
    """Tiles of a dzbuild version folder (``dzi_files/{level}/{col}_{row}.jpg``)."""
    return lambda t: version_dir / "dzi_files" / str(t.level) / f"{t.col}_{t.row}.jpg"


def vips_tiles(files_dir: Path) -> TilePath:
    """Tiles of a ``vips dzsave`` output (``NAME_files/{level}/{col}_{row}.jpg``)."""
    return lambda t: files_dir / str(t.level) / f"{t.col}_{t.row}.jpg"


def level_psnr(picture, grid: Grid, pyramids: dict[str, TilePath]) -> dict[str, list[float]]:
    """PSNR (dB) of every level, level 0 first, for each named pyramid."""
    errors = {name: [0.0] * (grid.max_level + 1) for name in pyramids}
    level = _compare_base(picture, grid, pyramids, errors)
    for number in range(grid.max_level - 1, -1, -1):
        for tile in grid.tiles(number):
            x, y, w, h = grid.tile_bounds(tile)
            for name, path in pyramids.items():
                errors[name][number] += _squared_error(path(tile), level[y : y + h, x : x + w])
        if number:
            level = halve_float(level)
    return {name: [_psnr(errors[name][n], grid.level_size(n)) for n in grid.levels] for name in pyramids}


def _compare_base(picture, grid: Grid, pyramids: dict[str, TilePath], errors) -> np.ndarray:
    """Compare the base level strip by strip; return the next level of the reference, in float."""
    top = grid.max_level
    width, height = grid.level_size(top - 1)
    below = np.empty((height, width, 3), np.float32)
    rows = grid.tile_counts(top).height
    for row in range(rows):
        y0 = row * grid.tile_size
        strip = picture.rows(y0, min(grid.level_size(top).height, y0 + grid.tile_size)).astype(np.float32)
        for tile in (Tile(top, col, row) for col in range(grid.tile_counts(top).width)):
            x, _, w, h = grid.tile_bounds(tile)
            for name, path in pyramids.items():
                errors[name][top] += _squared_error(path(tile), strip[:h, x : x + w])
        half = halve_float(strip)
        below[y0 // 2 : y0 // 2 + half.shape[0]] = half
    return below


def halve_float(pixels: np.ndarray) -> np.ndarray:
    """Exact 2x2 mean in float; an odd last row or column is averaged with itself."""
    height, width = pixels.shape[:2]
    if height % 2:
        pixels = np.concatenate([pixels, pixels[-1:]], axis=0)
    if width % 2:
        pixels = np.concatenate([pixels, pixels[:, -1:]], axis=1)
    return (pixels[0::2, 0::2] + pixels[1::2, 0::2] + pixels[0::2, 1::2] + pixels[1::2, 1::2]) * np.float32(0.25)


def _squared_error(path: Path, reference: np.ndarray) -> float:
    pixels = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None or pixels.shape != reference.shape:
        got = None if pixels is None else pixels.shape
        raise ValueError(f"{path}: expected a tile of shape {reference.shape}, got {got}")
    diff = pixels.astype(np.float32) - reference
    return float(np.einsum("ijk,ijk->", diff, diff, dtype=np.float64))


def _psnr(squared: float, size) -> float:
    mse = squared / (size.width * size.height * 3)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
