"""Keep ``bench/serve_burst.py`` from rotting: one small burst, every client answered (no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.serve_burst import run_benchmark  # noqa: E402


def test_the_burst_benchmark_answers_every_client():
    (row,) = run_benchmark(clients=20, rounds=1)
    assert row["clients"] == 20 and row["unanswered"] == 0
    assert 0 < row["median"] <= row["max"] < float("inf")
