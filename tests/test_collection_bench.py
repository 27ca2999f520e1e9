"""Keep ``bench/collection.py`` from rotting: its whole pipeline on a few items, once."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.collection import item_shape, run_collection_benchmark  # noqa: E402


def test_collection_benchmark_runs_on_a_few_items(tmp_path):
    timings = run_collection_benchmark(tmp_path, items=5, jobs=1, adds=2, log=lambda *_: None)
    assert timings.collection_tiles == 5 + 2 + 7  # level 8: one tile per item, level 7: two, then one a level
    assert 1 <= timings.add_computed <= timings.max_level + 1
    assert 1 <= timings.version_computed <= timings.max_level + 1
    assert min(timings.members_seconds, timings.collection_seconds, timings.noop_seconds) > 0
    assert not list(tmp_path.glob("collection-run-*")), "the run folder is removed"
    assert {item_shape(i)[2] for i in range(3)} == {64, 128, 256}
