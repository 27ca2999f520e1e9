"""The heavy libraries, each imported on first use: the one place dzbuild imports them.

OpenCV, NumPy, Jinja and tqdm together take longer to import than a rerun with nothing new
takes to run, and most runs need none of them: a rerun touches no pixel and renders no page.
Every other import in dzbuild sits at the top of its module.
"""

from __future__ import annotations

import os
from functools import lru_cache


def single_threaded_math() -> None:
    """Keep numpy's OpenBLAS from starting a thread per core in every worker.

    Tiles are processed one per process; idle BLAS threads only spin (about 5% of a build's CPU)
    and starting them doubles the time to import numpy. Must run before numpy is imported.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@lru_cache(maxsize=None)
def cv():
    """OpenCV (``cv2``), single-threaded: parallelism comes from worker processes."""
    single_threaded_math()
    import cv2

    cv2.setNumThreads(1)
    return cv2


@lru_cache(maxsize=None)
def np():
    """NumPy, with one BLAS thread."""
    single_threaded_math()
    import numpy

    return numpy


@lru_cache(maxsize=None)
def jinja2():
    """Jinja, with ``jinja2.meta`` (which names the templates a template includes)."""
    import jinja2
    import jinja2.meta

    return jinja2


@lru_cache(maxsize=None)
def tqdm():
    """tqdm's progress bar class."""
    from tqdm import tqdm

    return tqdm
