"""Run work units in this process, one after the other: ``--jobs 1`` and ``--executor inline``.

No process is started, so a small build pays for nothing, and a debugger or profiler sees
every unit.
"""

from __future__ import annotations


class InlineBatch:
    """Units that run when their results are asked for; nothing runs before, so cancel has nothing to stop."""

    def __init__(self, fn, items: list) -> None:
        self._fn, self._items = fn, items

    def results(self) -> list:
        return [self._fn(item) for item in self._items]

    def cancel(self) -> None:
        self._items = []


class InlineExecutor:
    """One job, in this process."""

    jobs = 1

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prewarm(self, workers: int) -> None:
        """Nothing to start."""

    def start(self, fn, items, workers: int | None = None) -> InlineBatch:
        return InlineBatch(fn, list(items))

    def run(self, fn, items) -> list:
        return self.start(fn, items).results()

    def close(self, cancel: bool = False) -> None:
        """Nothing to stop."""
