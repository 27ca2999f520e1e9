"""Small image folders made inline for the tests, and ways to look at what a build left behind.

Every picture comes from ``dzbuild.testing.synthetic_image``, so no binary fixture is committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import PyramidSpec
from dzbuild.pyramid.tiling import write_spec, write_tiles
from dzbuild.testing import synthetic_image

LOCK_NAME = ".dzbuild.lock"  # appears with the first run that creates dest/; snapshots leave it out


def make_image_dir(
    root: Path, width: int, height: int, tile_size: int, fmt: str = "jpg", seed: int = 0, overlap: int = 0
):
    """Write ``pyramid.json`` and a complete ``v0/``; return (image folder, spec, pixels)."""
    spec = PyramidSpec(width, height, tile_size, overlap=overlap, format=fmt)
    image_dir = root / f"img{width}x{height}t{tile_size}o{overlap}{fmt}s{seed}"
    write_spec(image_dir, spec)
    pixels = synthetic_image(width, height, seed=seed)
    write_tiles(image_dir / "v0", pixels, spec)
    return image_dir, spec, pixels


def add_version(image_dir: Path, spec: PyramidSpec, number: int, tiles, seed: int, pixels=None):
    """Write ``v{number}/`` holding ``tiles`` cut from a new picture; return the full new picture.

    ``pixels`` is the picture before the patch; the tiles not in ``tiles`` keep it.
    """
    fresh = synthetic_image(spec.width, spec.height, seed=seed)
    write_tiles(image_dir / f"v{number}", fresh, spec, tiles)
    if pixels is None:
        return fresh
    merged = pixels.copy()
    grid = spec.grid
    for tile in tiles:
        x, y, w, h = grid.tile_bounds(tile)
        merged[y : y + h, x : x + w] = fresh[y : y + h, x : x + w]
    return merged


def base(spec: PyramidSpec, col: int, row: int) -> Tile:
    return Tile(spec.grid.max_level, col, row)


def version_dir(dest: Path, version: int) -> Path:
    return dest / "dzi" / f"v{version}"


def tile_file(dest: Path, version: int, tile: Tile, ext: str = "jpg") -> Path:
    return version_dir(dest, version) / "dzi_files" / str(tile.level) / f"{tile.col}_{tile.row}.{ext}"


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every tile file (following links) below ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot(folder: Path) -> dict[str, tuple]:
    """Relative path -> (inode, mtime_ns, size, link target) of every file and link below ``folder``.

    Links are not followed. Folders count by name only: making and removing a temporary
    version folder inside ``dest/dzi/`` changes that folder's mtime, not what it serves.
    """
    if not folder.exists():
        return {}
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.name == LOCK_NAME:
            continue
        if path.is_dir() and not path.is_symlink():
            result[str(path.relative_to(folder))] = "folder"
            continue
        st = path.lstat()
        target = os.readlink(path) if path.is_symlink() else None
        result[str(path.relative_to(folder))] = (st.st_ino, st.st_mtime_ns, st.st_size, target)
    return result


def stitch(dest: Path, version: int, grid, level: int, ext: str = "jpg"):
    """Decode every tile of one level and join them into the level's whole picture."""
    import cv2

    width, height = grid.level_size(level)
    canvas = np.zeros((height, width, 3), np.uint8)
    for tile in grid.tiles(level):
        x, y, w, h = grid.tile_bounds(tile)
        pixels = cv2.imread(str(tile_file(dest, version, tile, ext)), cv2.IMREAD_COLOR)
        assert pixels.shape[:2] == (h, w), f"{tile} is {pixels.shape[1]}x{pixels.shape[0]}, expected {w}x{h}"
        canvas[y : y + h, x : x + w] = pixels
    return canvas
