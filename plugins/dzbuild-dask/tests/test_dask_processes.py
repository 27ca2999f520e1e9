"""dzbuild against ``dask scheduler`` and ``dask worker`` processes: identical bytes, and faults mid-build.

The faults (a worker SIGKILLed, the scheduler gone, Ctrl-C) are struck while a unit is running:
the workers of ``slow_processes`` leave a mark when they start a unit, then wait before running it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_dzbuild_dask import build, files, image_with_patch

from dzbuild.errors import BuildError


def start_cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "dzbuild", *args]
    env = {**os.environ, **(env or {})}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def first_mark(marks: Path, build: subprocess.Popen, timeout: float = 60) -> int:
    """The process id of the first worker that started a unit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(marks.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        if found:
            return int(found[0].name)
        assert build.poll() is None, build.communicate()
        time.sleep(0.02)
    raise AssertionError("no worker started a unit")


def partial_folders(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if ".partial" in p.name or p.name.startswith(".v")]


@pytest.mark.parametrize("overlap", [0, 1])
def test_a_pyramid_on_separate_worker_processes_is_byte_identical(tmp_path, processes, overlap):
    image = image_with_patch(tmp_path / "img", overlap)
    summary = build(image, tmp_path / "dask", executor=f"dask://{processes.address.removeprefix('tcp://')}")
    assert (summary["versions_built"], summary["workers"]) == ([0, 1], 2)
    build(image, tmp_path / "fork", jobs=2)
    assert files(tmp_path / "dask") == files(tmp_path / "fork")


def test_a_worker_killed_mid_build_has_its_units_run_again(tmp_path, slow_processes):
    image = image_with_patch(tmp_path / "img")
    shutil.rmtree(image / "v1")  # v0 alone: 16 subtrees for two workers
    run = start_cli(
        "pyramid", str(image), "--dest", str(tmp_path / "dask"), "--executor", f"dask://{slow_processes.address}"
    )
    victim = first_mark(slow_processes.marks, run)
    os.kill(victim, signal.SIGKILL)
    out, err = run.communicate(timeout=120)
    assert (run.returncode, err) == (0, ""), out
    assert sum(p.poll() is None for p in slow_processes.workers) == 1  # the other worker finished the build
    build(image, tmp_path / "inline", jobs=1)
    assert files(tmp_path / "dask") == files(tmp_path / "inline")
    assert not partial_folders(tmp_path / "dask")


def test_a_scheduler_that_goes_away_is_one_line_within_the_timeout(tmp_path, slow_processes):
    image = image_with_patch(tmp_path / "img")
    dest = tmp_path / "dask"
    timeout = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}
    run = start_cli(
        "pyramid", str(image), "--dest", str(dest), "--executor", f"dask://{slow_processes.address}", env=timeout
    )
    first_mark(slow_processes.marks, run)
    started = time.monotonic()
    slow_processes.kill(slow_processes.scheduler)
    out, err = run.communicate(timeout=120)
    assert time.monotonic() - started < 60
    assert run.returncode == 7 and err.count("\n") == 1, err
    assert f"Dask scheduler at {slow_processes.address}" in err
    assert not (dest / "dzi" / "v0").exists()


def test_ctrl_c_cancels_the_units_and_publishes_nothing(tmp_path, slow_processes):
    image = image_with_patch(tmp_path / "img")
    dest = tmp_path / "dask"
    run = start_cli("pyramid", str(image), "--dest", str(dest), "--executor", f"dask://{slow_processes.address}")
    first_mark(slow_processes.marks, run)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130 and "interrupted" in err and err.count("\n") == 1, err
    assert not (dest / "dzi" / "v0").exists() and not partial_folders(dest)  # no unit wrote after the clean-up


def test_a_worker_that_cannot_see_the_folders_is_named_before_any_tile_work(tmp_path, processes):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("needs unshare -m (a private mount namespace) to hide a folder from one worker")
    hidden = tmp_path / "shared"
    hidden.mkdir()
    image = image_with_patch(hidden / "img")
    mount = f'mount -t tmpfs tmpfs {hidden} && exec "$0" "$@"'
    processes.add_workers(1, prefix=("unshare", "-m", "sh", "-c", mount))
    try:
        with pytest.raises(BuildError) as caught:
            build(image, hidden / "dest", executor=f"dask://{processes.address}")
    finally:
        processes.kill(processes.workers.pop())
        processes.wait_for_workers(2)
    message = str(caught.value)
    assert message.startswith(f"{image}: Dask worker tcp://127.0.0.1:") and "No such file or directory" in message
    assert not (hidden / "dest" / "dzi").exists()
