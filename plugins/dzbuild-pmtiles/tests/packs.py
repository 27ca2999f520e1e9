"""Reading a published pack as a viewer does: the index, then each tile from its archive."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from dzbuild_pmtiles.archive import read_archive, read_tile
from dzbuild_pmtiles.index import archive_urls

from dzbuild.grid import Grid, Tile


def pack_tiles(version_dir: Path) -> dict[Tile, bytes]:
    """Every tile a version's index covers, read from the archive the index names."""
    index = json.loads((version_dir / "index.json").read_bytes())
    grid = Grid(index["width"], index["height"], index["tile_size"])
    archives: dict[str, bytes] = {}
    found = {}
    for level in range(index["min_level"], index["max_level"] + 1):
        per_row = -(-grid.tile_counts(level).width // index["block"])
        for tile in grid.tiles(level):
            held = index["tiles"].get(f"{level}/{tile.col}/{tile.row}")
            if held is None:
                held = index["blocks"][str(level)][(tile.row // index["block"]) * per_row + tile.col // index["block"]]
            url = archive_urls(index["archives"])[held]
            if url not in archives:
                archives[url] = (version_dir / url).read_bytes()
            found[tile] = read_tile(archives[url], tile)
    return found


def stored_tiles(format_dir: Path) -> list[tuple[Tile, bytes]]:
    """Every tile entry of every archive on disk, over all versions."""
    return [item for path in sorted(format_dir.rglob("*.pmtiles")) for item in read_archive(path.read_bytes()).items()]


def dzi_tile(dzi_version: Path, tile: Tile) -> bytes:
    return (dzi_version / "dzi_files" / str(tile.level) / f"{tile.col}_{tile.row}.jpg").read_bytes()


def add_version(image_dir: Path, number: int, tiles, seed: int) -> None:
    """Write ``v{number}/`` with new pixels for each ``(col, row)`` of ``tiles``."""
    spec = json.loads((image_dir / "pyramid.json").read_text())
    grid = Grid(spec["width"], spec["height"], spec["tile_size"])
    folder = image_dir / f"v{number}"
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for col, row in tiles:
        width, height = grid.tile_size_of(Tile(grid.max_level, col, row))
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"{col}_{row}.jpg"), pixels)
