"""The plugin is registered in-process by a fixture, as it would be through its entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys._dzbuild_called_from_test = True  # installed entry points stay out of in-process tests


@pytest.fixture(autouse=True)
def pmtiles_plugin():
    import dzbuild_pmtiles

    from dzbuild.testing import plugin_registered

    with plugin_registered(dzbuild_pmtiles, "pmtiles") as plugin:
        yield plugin


def add_version(image_dir: Path, number: int, tiles, seed: int) -> None:
    """Write ``v{number}/`` with new pixels for each ``(col, row)`` of ``tiles``."""
    from dzbuild.grid import Grid, Tile

    spec = json.loads((image_dir / "pyramid.json").read_text())
    grid = Grid(spec["width"], spec["height"], spec["tile_size"])
    folder = image_dir / f"v{number}"
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for col, row in tiles:
        width, height = grid.tile_size_of(Tile(grid.max_level, col, row))
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"{col}_{row}.jpg"), pixels)
