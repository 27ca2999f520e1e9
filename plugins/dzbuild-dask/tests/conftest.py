"""Real Dask clusters for the tests: a LocalCluster, and a ``dask scheduler`` with ``dask worker`` processes.

Every test here is skipped, with the reason, when dzbuild-dask is not installed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("dzbuild_dask", reason="dzbuild-dask is not installed (pip install ./plugins/dzbuild-dask)")
sys._dzbuild_called_from_test = True  # installed entry points stay out of in-process tests

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def dask_plugin():
    import dzbuild_dask

    from dzbuild.testing import plugin_registered

    with plugin_registered(dzbuild_dask, "dask") as plugin:
        yield plugin


@pytest.fixture(scope="session")
def local_cluster():
    """A LocalCluster of two one-thread worker processes, shared by the tests; yields its address."""
    import logging

    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


class Processes:
    """A scheduler and workers started as separate ``dask`` commands on 127.0.0.1; all killed at the end."""

    def __init__(self, folder: Path, env: dict | None = None) -> None:
        self.folder = folder
        self.env = {**os.environ, **(env or {})}
        self.scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard")
        self.address = self._address()
        self.workers: list[subprocess.Popen] = []

    def add_workers(self, count: int, *extra: str, prefix: tuple = ()) -> None:
        for _ in range(count):
            args = ("worker", "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", *extra)
            self.workers.append(self._start(*args, prefix=prefix))
        self.wait_for_workers(len(self.workers))

    def wait_for_workers(self, count: int) -> None:
        import distributed

        with distributed.Client(self.address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(count, timeout=60)

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        if process.poll() is None:
            process.send_signal(sig)
        process.wait(timeout=30)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.kill(process)

    def _start(self, *args: str, prefix: tuple = ()) -> subprocess.Popen:
        file = ("--scheduler-file", str(self.scheduler_file))
        command = [*prefix, sys.executable, "-m", "dask", *args, *file]
        log = open(self.folder / f"{args[0]}-{time.monotonic_ns()}.log", "wb")
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                return json.loads(self.scheduler_file.read_text())["address"]
            except (FileNotFoundError, ValueError, KeyError):
                if self.scheduler.poll() is not None:
                    raise RuntimeError("dask scheduler exited at start") from None
                time.sleep(0.1)
        raise RuntimeError("dask scheduler did not start within 60 s")


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes, shared by a module's tests."""
    procs = Processes(tmp_path_factory.mktemp("dask-processes"))
    try:
        procs.add_workers(2)
        yield procs
    finally:
        procs.close()


@pytest.fixture
def slow_processes(tmp_path):
    """A fresh scheduler and two workers whose units leave a mark, then wait: for killing things mid-build."""
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {"DZBUILD_TEST_MARKS": str(marks), "DZBUILD_TEST_UNIT_DELAY": "0.4"}
    (tmp_path / "cluster").mkdir()
    procs = Processes(tmp_path / "cluster", env)
    procs.marks = marks
    try:
        procs.add_workers(2, "--preload", str(HERE / "slow_units.py"))
        yield procs
    finally:
        procs.close()
