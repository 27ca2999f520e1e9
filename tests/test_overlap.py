"""Pyramids with overlap >= 1: tile geometry, pixels, links and the incremental invariant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dzbuild.grid import Grid, Tile
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.planner import plan_overlap, plan_version
from dzbuild.pyramid.spec import PyramidSpec, parse_spec
from dzbuild.pyramid.tiling import write_spec, write_tiles
from dzbuild.testing import synthetic_image


def make_image(folder: Path, width: int, height: int, tile: int, overlap: int, seed: int = 0):
    spec = PyramidSpec(width, height, tile, overlap)
    pixels = synthetic_image(width, height, seed)
    write_spec(folder, spec)
    write_tiles(folder / "v0", pixels, spec)
    return spec, pixels


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def test_overlap_tile_sizes_follow_the_dzi_rule():
    """OpenSeadragon: x = 0 ? 0 : T*x - overlap; width = T + (x = 0 ? 1 : 2) * overlap, clipped."""
    grid = Grid(750, 500, 250)
    assert grid.overlap_bounds(Tile(10, 0, 0), 1) == (0, 0, 251, 251)
    assert grid.overlap_bounds(Tile(10, 1, 0), 1) == (249, 0, 252, 251)
    assert grid.overlap_bounds(Tile(10, 2, 1), 1) == (499, 249, 251, 251)
    assert grid.overlap_bounds(Tile(9, 1, 0), 2) == (248, 0, 127, 250)
    assert grid.overlap_bounds(Tile(0, 0, 0), 4) == (0, 0, 1, 1)


def test_spec_accepts_overlap_up_to_the_tile_size():
    assert parse_spec('{"width": 9, "height": 9, "tile_size": 4, "overlap": 2}').overlap == 2
    with pytest.raises(Exception, match="'overlap' must be between 0 and 4"):
        parse_spec('{"width": 9, "height": 9, "tile_size": 4, "overlap": 5}')


def test_planner_dilates_changed_core_tiles_by_one_tile_per_level():
    grid = Grid(2048, 2048, 256)
    v0 = plan_overlap(grid, plan_version(grid, 0, grid.tiles(grid.max_level), None), None)
    assert v0.overlap.compute == frozenset(t for level in grid.levels for t in grid.tiles(level))
    v1 = plan_overlap(grid, plan_version(grid, 1, [Tile(11, 3, 3)], v0.owners), v0.overlap.owners)
    at_base = {t for t in v1.overlap.compute if t.level == 11}
    assert at_base == {Tile(11, c, r) for c in (2, 3, 4) for r in (2, 3, 4)}
    assert {t for t in v1.overlap.compute if t.level == 10} == {Tile(10, c, r) for c in (0, 1, 2) for r in (0, 1, 2)}
    assert all(v1.overlap.owners[t.level][grid.index(t)] == 1 for t in v1.overlap.compute)
    assert v1.overlap.owners[11][grid.index(Tile(11, 7, 7))] == 0


def test_overlap_pixels_match_the_core_level_image(tmp_path):
    spec, pixels = make_image(tmp_path / "img", 700, 450, 128, 2, seed=3)
    build_pyramid(tmp_path / "img", options=BuildOptions(jobs=1))
    grid, base = spec.grid, tmp_path / "img" / "dest" / "dzi" / "v0" / "dzi_files"
    top = grid.max_level
    core = np.zeros_like(pixels)  # the full-resolution level as the source tiles decode
    for tile in grid.tiles(top):
        x, y, w, h = grid.tile_bounds(tile)
        core[y : y + h, x : x + w] = cv2.imread(str(tmp_path / "img" / "v0" / f"{tile.col}_{tile.row}.jpg"))
    for tile in grid.tiles(top):
        x, y, w, h = grid.overlap_bounds(tile, spec.overlap)
        decoded = cv2.imread(str(base / str(top) / f"{tile.col}_{tile.row}.jpg"))
        assert decoded.shape[:2] == (h, w)
        # One more JPEG generation of the decoded sources, its 8x8 blocks shifted by the border,
        # costs about as much as the first on this noisy picture (31.7 dB for one generation).
        here = psnr(decoded, core[y : y + h, x : x + w])
        assert here > 30
        padded = np.pad(core, ((1, 1), (1, 1), (0, 0)), mode="edge")
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):  # the border is exactly where it belongs
            shifted = padded[1 + y + dy : 1 + y + dy + h, 1 + x + dx : 1 + x + dx + w]
            assert here > psnr(decoded, shifted) + 3
    for level in grid.levels[:-1]:
        for tile in grid.tiles(level):
            x, y, w, h = grid.overlap_bounds(tile, spec.overlap)
            assert cv2.imread(str(base / str(level) / f"{tile.col}_{tile.row}.jpg")).shape[:2] == (h, w)


def test_overlap_tiles_are_links_where_nothing_changed(tmp_path):
    spec, pixels = make_image(tmp_path / "img", 1024, 1024, 128, 1)
    changed = pixels.copy()
    changed[:128, :128] = 255 - changed[:128, :128]
    write_tiles(tmp_path / "img" / "v1", changed, spec, [Tile(10, 0, 0)])
    build_pyramid(tmp_path / "img", options=BuildOptions(jobs=2))
    v0 = tmp_path / "img" / "dest" / "dzi" / "v0" / "dzi_files" / "10"
    v1 = tmp_path / "img" / "dest" / "dzi" / "v1" / "dzi_files" / "10"
    assert (v1 / "5_5.jpg").stat().st_ino == (v0 / "5_5.jpg").stat().st_ino  # far away: linked
    assert (v1 / "1_1.jpg").stat().st_ino != (v0 / "1_1.jpg").stat().st_ino  # neighbour: recut
    record = json.loads((tmp_path / "img" / "dest" / ".dzbuild" / "v1.json").read_text())
    # core: the 10 ancestors; published: 2x2 at levels 10, 9 and 8, then one tile on each of levels 7..0
    assert (record["computed"], record["linked"]) == (10 + 4 + 4 + 4 + 8, 92 - 20)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patches=st.lists(st.sets(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=3), max_size=3),
    overlap=st.sampled_from([1, 3]),
)
def test_incremental_equals_from_scratch_with_overlap(tmp_path_factory, patches, overlap):
    root = tmp_path_factory.mktemp("overlap")
    spec, pixels = make_image(root / "inc", 300, 230, 64, overlap, seed=len(patches))
    final = pixels.copy()
    for number, cells in enumerate(patches, start=1):
        tiles = [Tile(spec.grid.max_level, c, r) for c, r in cells]
        for tile in tiles:
            x, y, w, h = spec.grid.tile_bounds(tile)
            final[y : y + h, x : x + w] = 255 - final[y : y + h, x : x + w] // (number + 1)
        write_tiles(root / "inc" / f"v{number}", final, spec, tiles)
    build_pyramid(root / "inc", options=BuildOptions(jobs=2))
    scratch = root / "scratch"
    write_spec(scratch, spec)
    shutil.copytree(root / "inc" / "v0", scratch / "v0")
    for number in range(1, len(patches) + 1):
        for tile_file in (root / "inc" / f"v{number}").iterdir():
            shutil.copyfile(tile_file, scratch / "v0" / tile_file.name)
    build_pyramid(scratch, options=BuildOptions(jobs=1))
    last = len(patches)
    assert tree_bytes(root / "inc" / "dest" / "dzi" / f"v{last}") == tree_bytes(scratch / "dest" / "dzi" / "v0")
