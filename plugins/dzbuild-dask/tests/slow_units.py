"""A ``dask worker --preload`` for tests: every work unit first leaves a mark, then waits.

The mark (an empty file named after the worker's process id, in ``$DZBUILD_TEST_MARKS``) tells
a test which worker is in the middle of a unit, so it can kill that worker, the scheduler or
the build at a known point; the wait (``$DZBUILD_TEST_UNIT_DELAY`` seconds) keeps the build
running meanwhile. Task functions are sent by name, so this worker runs the wrapper.
"""

from __future__ import annotations

import os
import time

from dzbuild.pyramid import compute

_run_unit = compute.__dict__.setdefault("run_unit_before_test", compute.run_unit)  # Dask may load a preload twice


def run_unit(job):
    marks = os.environ.get("DZBUILD_TEST_MARKS")
    if marks:
        open(os.path.join(marks, str(os.getpid())), "a").close()
    time.sleep(float(os.environ.get("DZBUILD_TEST_UNIT_DELAY", "0")))
    return _run_unit(job)


compute.run_unit = run_unit
