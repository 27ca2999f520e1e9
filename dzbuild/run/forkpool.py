"""The fork pool: work units in a small pool of forked worker processes (the ``fork`` executor).

The plan decides *what* to compute; an executor only decides *where*. The pool is ``os.fork``
and two pipes per worker rather than ``concurrent.futures``: importing ``multiprocessing`` and
``concurrent.futures`` costs about a patch's whole compute time, and it would sit before the
fork, on the critical path of every small build. The worker side is in ``workers.py``; here a
dispatcher thread hands out the tasks and collects the answers.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import threading

from ..errors import BuildError
from ..plugins import registry
from .inline import InlineBatch
from .workers import HEADER, exiting, fork_workers, kill, reap, reap_exited, write_all


def default_jobs() -> int:
    """The workers a build uses when none is named: every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1

class WorkerDied(Exception):
    """A worker ended without answering: killed, or out of memory."""


class _Task:
    __slots__ = ("fn", "item", "batch", "done", "ok", "value")

    def __init__(self, fn, item, batch: object) -> None:
        self.fn, self.item, self.batch = fn, item, batch
        self.done = False
        self.ok = False
        self.value = None

    def finish(self, ok: bool, value) -> None:
        self.ok, self.value, self.done = ok, value, True


class Batch:
    """Units started together; ``results()`` waits for all and raises the first error."""

    def __init__(self, pool: "ForkPool") -> None:
        self._pool = pool
        self._tasks: list[_Task] = []  # filled by ``ForkPool.start``: each task names its batch

    def cancel(self) -> None:
        """Start no further unit and wait for the running ones, ignoring every result."""
        self._pool._wait(self, cancel=True)

    def results(self) -> list:
        self._pool._wait(self, cancel=False)
        for task in self._tasks:
            if task.done and not task.ok:
                if isinstance(task.value, WorkerDied):
                    died = "a worker process died (killed, or out of memory); published versions are intact"
                    raise BuildError(died) from None
                raise task.value
        return [task.value for task in self._tasks]


class _Worker:
    """One forked process and the parent's ends of its two pipes."""

    def __init__(self, pid: int | None, requests: int, answers: int) -> None:
        self.pid = pid  # None for a sibling forked by the first worker
        self.requests = requests  # the parent writes tasks here...
        self.answers = os.fdopen(answers, "rb")  # ...and reads results here
        self.task: _Task | None = None

    def send(self, task: _Task) -> bool:
        """Hand ``task`` to this worker; False (and the task failed) if it cannot be pickled."""
        try:
            data = pickle.dumps((task.fn, task.item), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - that task fails alone, as it would inline
            task.finish(False, exc)
            return False
        self.task = task
        try:
            write_all(self.requests, HEADER.pack(len(data)) + data)
        except BrokenPipeError:  # the worker is gone: reading its answer pipe reports it
            pass
        return True

    def receive(self) -> _Task:
        """Read the answer to the running task, or note that the worker is gone."""
        task, self.task = self.task, None
        header = self.answers.read(HEADER.size)
        data = self.answers.read(HEADER.unpack(header)[0]) if len(header) == HEADER.size else b""
        if data:
            try:
                task.finish(*pickle.loads(data))
            except Exception as exc:  # noqa: BLE001 - an answer that cannot be read back still ends its task
                task.finish(False, exc)
        else:
            task.finish(False, WorkerDied())
        return task


class ForkPool:
    """Inline when ``jobs`` is 1; otherwise forked workers, started lazily and reused across versions.

    A dispatcher thread hands each idle worker the next task, so workers stay busy while
    this process links files between ``start`` and ``results``.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or default_jobs())
        self._workers: list[_Worker] = []
        self._queue: list[_Task] = []  # tasks not yet sent, oldest first
        self._broken = False  # a worker died: every further task fails
        self._lock = None
        self._changed = None  # a Condition, notified whenever a task finishes
        self._dispatcher = None

    def __enter__(self) -> "ForkPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close(cancel=exc[0] is not None)

    def prewarm(self, workers: int) -> None:
        """Fork ``workers`` processes now; each imports OpenCV at once.

        Called as soon as the engine knows there is work, so that the ~0.1 s import runs in
        the workers while this process checks sources, plans and links. The plugins, which this
        process needs too, are loaded first and inherited: loaded once rather than once per
        process (so are the modules of the tasks, which their callers import).
        """
        if self.jobs > 1 and len(self._workers) < min(self.jobs, max(1, workers)):
            registry()
            self._spawn(min(self.jobs, max(1, workers)))

    def start(self, fn, items, workers: int | None = None) -> "Batch | InlineBatch":
        """Start ``fn`` on every item. Inline mode defers the work to ``results()``.

        ``workers`` caps how many processes a small batch needs (one for a single patch).
        """
        items = list(items)
        if self.jobs == 1 or not items:
            return InlineBatch(fn, items)
        self._spawn(min(self.jobs, workers or len(items)))
        batch = Batch(self)
        batch._tasks = [_Task(fn, item, batch) for item in items]
        with self._lock:
            self._queue.extend(batch._tasks)
            self._dispatch()
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._serve_answers, name="dzbuild-dispatch", daemon=True)
                self._dispatcher.start()
        return batch

    def run(self, fn, items) -> list:
        return self.start(fn, items).results()

    def close(self, cancel: bool = False) -> None:
        """End the workers: killed at once when cancelling, else they exit after their running tasks.

        Only killed workers are waited for (nothing may still write into folders being removed).
        Idle ones exit on their own once their input closes; waiting for the kernel to tear
        down each one's OpenCV would add milliseconds to every build, so they are reaped later.
        """
        reap_exited()
        if not self._workers:
            return

        with self._lock:
            for task in self._queue:
                task.finish(False, WorkerDied())
            self._queue.clear()
            workers = list(self._workers)
            for worker in workers:
                if cancel and worker.pid is not None:  # siblings die with the first worker, their parent
                    kill(worker.pid, signal.SIGKILL)
                os.close(worker.requests)  # end of input: the worker exits after its task
            self._changed.notify_all()
        if self._dispatcher is not None:
            self._dispatcher.join()
        for worker in workers:
            if cancel:  # wait until it is gone: its answer pipe reaches EOF when it dies
                worker.answers.read()
                if worker.pid is not None:
                    reap(worker.pid)
            elif worker.pid is not None:
                exiting.append(worker.pid)
            worker.answers.close()
        self._workers = []
        reap_exited()

    # -- The parent's side ----------------------------------------------------------------------

    def _spawn(self, count: int) -> None:
        """Fork workers up to ``count``; never while the dispatcher thread runs (fork and threads mix badly)."""
        if self._lock is None:
            self._lock = threading.Lock()
            self._changed = threading.Condition(self._lock)
        if self._dispatcher is not None or len(self._workers) >= count:
            return
        started = fork_workers(count - len(self._workers), [w.requests for w in self._workers])
        self._workers += [_Worker(*worker) for worker in started]

    def _dispatch(self) -> None:
        """Give every idle worker the next queued task (the lock is held)."""
        for worker in self._workers:
            while worker.task is None and self._queue:
                task = self._queue.pop(0)
                if self._broken:
                    task.finish(False, WorkerDied())
                elif not worker.send(task):
                    self._drop(task.batch)  # as for any failed task: start nothing more of its batch

    def _serve_answers(self) -> None:
        """The dispatcher thread: collect answers and hand out tasks until none is left."""
        while True:
            with self._lock:
                running = [w for w in self._workers if w.task is not None]
                if not running:
                    self._dispatcher = None
                    self._changed.notify_all()
                    return
            ready, _, _ = select.select([w.answers for w in running], [], [])
            with self._lock:
                for worker in running:
                    if worker.answers in ready:
                        task = worker.receive()
                        if not task.ok:
                            self._broken = self._broken or isinstance(task.value, WorkerDied)
                            self._drop(task.batch)  # an error: start nothing more of its batch
                self._dispatch()
                self._changed.notify_all()

    def _drop(self, batch: Batch) -> None:
        self._queue = [t for t in self._queue if t.batch is not batch]

    def _wait(self, batch: Batch, cancel: bool) -> None:
        """Wait until every task of ``batch`` is done or, cancelled, will never start."""
        with self._lock:
            if cancel:
                self._drop(batch)
            while any(not t.done and self._pending(t) for t in batch._tasks):
                self._changed.wait()

    def _pending(self, task: _Task) -> bool:
        """Queued or running: a task that will still finish."""
        return task in self._queue or any(worker.task is task for worker in self._workers)
