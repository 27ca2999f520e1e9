"""Keep ``bench/run.py`` from rotting: its whole pipeline on a 512x512 image, once.

The benchmark itself is not part of the test suite; this only checks that it still runs and
that what it measures is sane (vips is skipped when pyvips is not installed).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import measure  # noqa: E402
from bench.images import BenchImage  # noqa: E402
from bench.run import render  # noqa: E402
from bench.suite import run_sizes  # noqa: E402


def test_strips_agree_with_the_whole_picture(tmp_path):
    picture = BenchImage(tmp_path, 512).picture()
    whole = picture.pixels(strip=256)
    assert (picture.rows(256, 512) == whole[256:]).all()
    assert 20 < whole.std() < 90  # structure, not flat colour


def test_benchmark_runs_on_a_small_image(tmp_path):
    vips = measure.have_pyvips()
    image = BenchImage(tmp_path / "images", 512)
    [result] = run_sizes([image], tmp_path / "runs", reps=1, vips=vips, quality=True, log=lambda *_: None)

    assert result.patch_computed == [image.grid.max_level]  # exactly the ancestors of one base tile
    assert result.runs["full"][0].parent_mb > 5 and result.runs["full"][0].wall > 0
    assert result.floor.base_tiles == 4 and result.floor.upper_tiles == 9
    assert 0 < result.floor.one_core_half < result.floor.design
    for name, levels in result.psnr.items():
        assert len(levels) == image.grid.max_level + 1
        assert all(30 < p < math.inf for p in levels[-3:]), name  # the detailed levels are close to the reference
    assert ("vips dzsave" in result.psnr) == vips
    text = render([result], vips)
    assert "== targets\n" in text and "7 collect" in text
