"""Keep ``bench/site.py`` from rotting: its builds and one serve landing on three images, no timing asserts."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.site import HEIGHT, TILE, WIDTH, run_site_benchmark  # noqa: E402
from dzbuild.pyramid.spec import PyramidSpec  # noqa: E402


def test_site_benchmark_runs_on_three_images(tmp_path):
    timings = run_site_benchmark(tmp_path, 3, jobs=1, log=lambda *_: None, serve=1, outside=True)

    grid = PyramidSpec(WIDTH, HEIGHT, TILE).grid
    assert timings.new_version_computed == grid.max_level  # exactly the ancestors of one base tile
    base_tiles = sum(grid.tile_counts(level)[0] * grid.tile_counts(level)[1] for level in range(grid.max_level + 1))
    assert timings.output_files > 3 * base_tiles  # every tile of every image, plus pages and the viewer
    assert timings.index_bytes > 0
    assert 0 < timings.noop_seconds and 0 < timings.noop_again_seconds and 0 < timings.noop_after_seconds
    assert set(timings.cpu_seconds) == {"first", "rerun", "again", "new version", "rerun after"}
    assert len(timings.serve_seconds) == 1 and timings.serve_seconds[0] > 0  # the reload event came
    assert list(tmp_path.iterdir()) == []  # the generated site is removed
