"""Built-in executors: ``inline`` (this process, one job) and ``fork`` (a pool of forked workers)."""

from __future__ import annotations

from dzbuild.api import ConfigError, ForkPool, InlineExecutor, hookimpl


def _no_address(name: str, address: str | None) -> None:
    if address is not None:
        raise ConfigError(f"the {name} executor runs on this machine and takes no address, got {name}://{address}")


class InlineProvider:
    """Every unit in the building process, one after the other: for debugging and tiny builds."""

    name = "inline"

    def open(self, jobs: int | None, address: str | None):
        _no_address(self.name, address)
        return InlineExecutor()


class ForkProvider:
    """``jobs`` forked workers (default: every core this process may use); inline for one job."""

    name = "fork"

    def open(self, jobs: int | None, address: str | None):
        _no_address(self.name, address)
        return ForkPool(jobs)


@hookimpl
def register_executors(register):
    register(InlineProvider())
    register(ForkProvider())
