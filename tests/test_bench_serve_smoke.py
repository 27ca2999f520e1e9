"""Keep ``bench/serve.py`` from rotting: two patches on a 512x512 served image (no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.serve import run_benchmark  # noqa: E402


def test_the_serve_benchmark_measures_each_patch_in_order(tmp_path):
    results = run_benchmark(512, 2, 1, tmp_path, browser_wanted=False)
    assert len(results) == 2
    for times in results:
        assert set(times) == {"event", "cp_al"} and all(value > 0 for value in times.values())
    assert not (tmp_path / "serve-512").exists()  # the run folder is removed, the image stays cached
    assert (tmp_path / "images" / "512" / "pyramid.json").is_file()
