"""Choosing an executor: ``--executor NAME[://ADDRESS]``, or ``executor = "..."`` in dzbuild.toml."""

from __future__ import annotations

from ..errors import ConfigError
from ..plugins import registry


def default_executor(jobs: int | None) -> str:
    """What a build uses when none is named: the fork pool, or this process alone for one job."""
    return "inline" if jobs == 1 else "fork"


def parse_executor(choice: str) -> tuple[str, str | None]:
    """``"dask://host:8786"`` -> ``("dask", "host:8786")``; ``"fork"`` -> ``("fork", None)``."""
    name, sep, address = choice.partition("://")
    if not name or (sep and not address):
        raise ConfigError(f"an executor is NAME or NAME://ADDRESS (e.g. fork, dask, dask://host:8786), got {choice!r}")
    return name, address if sep else None


def open_executor(choice: str | None, jobs: int | None):
    """Open the executor ``choice`` names (None: the default) with ``jobs`` workers."""
    name, address = parse_executor(choice or default_executor(jobs))
    return registry().get("executor", name).open(jobs, address)


def check_paths(executor, read: list, write: list) -> None:
    """Let an executor whose workers run elsewhere check they see these folders, before any tile work."""
    check = getattr(executor, "check_paths", None)
    if check is not None:
        check(read=read, write=write)


def workers_of(executor) -> int | None:
    """How many workers ``executor`` runs, for ``--json``; None when it never started (e.g. a cluster not needed)."""
    return executor.workers if hasattr(executor, "workers") else executor.jobs
