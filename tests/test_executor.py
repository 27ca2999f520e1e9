"""The fork pool: results in order, errors and dead workers reported, nothing left running."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from dzbuild.errors import BuildError, SourceError
from dzbuild.run.forkpool import ForkPool


def square(n: int) -> int:
    return n * n


def fail_on_three(n: int) -> int:
    if n == 3:
        raise SourceError("three is refused", f"tile-{n}.jpg")
    time.sleep(0.01)
    return n


def die(_: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def pid(_: int) -> int:
    time.sleep(0.05)  # long enough for every worker to take a task
    return os.getpid()


def alive(pids) -> set[int]:
    found = set()
    for number in pids:
        try:
            os.kill(number, 0)
        except ProcessLookupError:
            continue
        with open(f"/proc/{number}/stat") as handle:
            if handle.read().split()[2] != "Z":
                found.add(number)
    return found


@pytest.mark.parametrize("jobs", [1, 2])
def test_results_come_back_in_the_order_of_the_items(jobs):
    with ForkPool(jobs) as pool:
        assert pool.run(square, range(20)) == [n * n for n in range(20)]
        assert pool.run(square, [7]) == [49]  # the same workers serve the next batch


def test_workers_run_tasks_at_the_same_time_while_the_caller_goes_on():
    with ForkPool(2) as pool:
        batch = pool.start(pid, range(4))
        meanwhile = threading.current_thread().name  # the caller is free until results()
        assert len(set(batch.results())) == 2 and meanwhile == "MainThread"


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_in_a_task_is_raised_as_it_was(jobs):
    with ForkPool(jobs) as pool:
        with pytest.raises(SourceError) as caught:
            pool.run(fail_on_three, range(6))
        assert str(caught.value) == "tile-3.jpg: three is refused"
        assert pool.run(square, [2]) == [4]  # the pool still works


def test_a_task_that_cannot_be_sent_fails_alone():
    with ForkPool(2) as pool:
        with pytest.raises(Exception, match="pickle"):
            pool.run(square, [lambda: None])
        assert pool.run(square, [3]) == [9]


def test_a_killed_worker_is_one_clear_error():
    with ForkPool(2) as pool:
        with pytest.raises(BuildError, match="a worker process died"):
            pool.run(die, range(4))


def test_cancel_waits_for_running_tasks_and_starts_no_more():
    with ForkPool(2) as pool:
        batch = pool.start(pid, range(40))
        batch.cancel()
        started = [task for task in batch._tasks if task.done]
        assert 2 <= len(started) < 40  # the running ones finished, the queued ones never started
        assert pool.run(square, [5]) == [25]


@pytest.mark.parametrize("cancel", [False, True])
def test_closing_leaves_no_worker_running(cancel):
    pool = ForkPool(2)
    pids = set(pool.run(pid, range(4)))
    pool.close(cancel=cancel)
    deadline = time.monotonic() + 5
    while alive(pids) and time.monotonic() < deadline:  # idle workers exit on their own, quickly
        time.sleep(0.01)
    assert not alive(pids)
