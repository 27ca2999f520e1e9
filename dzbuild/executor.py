"""Run work units inline or in a pool of forked worker processes.

The plan decides *what* to compute; this module only decides *where*. Units are independent,
so a distributed engine (Dask, say) could take this module's place without touching the plan.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _warm_up() -> None:
    from .codec import cv, np
    from .plugins import registry

    cv()
    np()
    registry()


class Batch:
    """Units started together; ``results()`` waits for all and raises the first error."""

    def __init__(self, futures=None, inline: Callable[[], list] | None = None) -> None:
        self._futures = futures or []
        self._inline = inline

    def cancel(self) -> None:
        """Drop the units not started, wait for the running ones and ignore every result."""
        _settle(self._futures)

    def results(self) -> list:
        if self._inline is not None:
            return self._inline()
        try:
            return [future.result() for future in self._futures]
        except BaseException as exc:
            _settle(self._futures)
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(exc, BrokenProcessPool):
                from .errors import BuildError

                died = "a worker process died (killed, or out of memory); published versions are intact"
                raise BuildError(died) from None
            raise


def _settle(futures) -> None:
    """Cancel what has not started and wait for what has, so no worker still writes while the caller cleans up."""
    from concurrent.futures import wait

    for future in futures:
        future.cancel()
    wait(futures)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end with the build (Linux), so a killed build leaves no worker writing into its folders."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


class Executor:
    """Inline when ``jobs`` is 1; otherwise a lazily created process pool reused across versions."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or default_jobs())
        self._pool = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close(cancel=exc[0] is not None)

    def start(self, fn: Callable, items: Iterable, workers: int | None = None) -> Batch:
        """Start ``fn`` on every item. Inline mode defers the work to ``results()``.

        ``workers`` caps how many processes a small batch needs (one for a single patch).
        """
        items = list(items)
        if self.jobs == 1 or not items:
            return Batch(inline=lambda: [fn(item) for item in items])
        pool = self._get_pool(min(self.jobs, workers or len(items)))
        return Batch(futures=[pool.submit(fn, item) for item in items])

    def prewarm(self, workers: int) -> None:
        """Start ``workers`` processes now and let each import OpenCV and load plugins.

        Called as soon as the engine knows there is work, so that the ~0.2 s import runs in
        the workers while this process scans sources, plans and links.
        """
        if self.jobs == 1 or self._pool is not None:
            return
        pool = self._get_pool(min(self.jobs, max(1, workers)))
        for _ in range(pool._max_workers):
            pool.submit(_warm_up)

    def run(self, fn: Callable, items: Iterable) -> list:
        return self.start(fn, items).results()

    def _get_pool(self, workers: int):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork: workers inherit loaded plugins and start in a millisecond, and OpenCV is
            # imported in the workers only, never in a parent that merely links files.
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
