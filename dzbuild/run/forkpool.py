"""Run work units inline or in a small pool of forked worker processes.

The plan decides *what* to compute; this module only decides *where*. Units are independent,
so a distributed engine (Dask, say) could take this module's place without touching the plan.

The pool is ``os.fork`` and two pipes per worker rather than ``concurrent.futures``: importing
``multiprocessing`` and ``concurrent.futures`` costs about a patch's whole compute time, and it
would sit before the fork, on the critical path of every small build. The first worker imports
OpenCV the moment it is forked, while this process goes on checking and linking, and then forks
its siblings, which so start with OpenCV loaded. A dispatcher thread hands out the tasks.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys

_HEADER = struct.Struct("<Q")  # every message: its length, then a pickle


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _warm_up() -> None:
    from ..io.codec import cv, np
    from ..plugins import registry
    from ..pyramid import compute  # noqa: F401 - what the first task unpickles

    cv()
    np()
    registry()


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

    def __init__(self, executor: "Executor | None" = None, inline=None) -> None:
        self._executor = executor
        self._tasks: list[_Task] = []  # filled by ``Executor.start``: each task names its batch
        self._inline = inline

    def cancel(self) -> None:
        """Start no further unit and wait for the running ones, ignoring every result."""
        if self._executor is not None:
            self._executor._wait(self, cancel=True)

    def results(self) -> list:
        if self._inline is not None:
            return self._inline()
        self._executor._wait(self, cancel=False)
        for task in self._tasks:
            if task.done and not task.ok:
                if isinstance(task.value, WorkerDied):
                    from ..errors import BuildError

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
            _write_all(self.requests, _HEADER.pack(len(data)) + data)
        except BrokenPipeError:  # the worker is gone: reading its answer pipe reports it
            pass
        return True

    def receive(self) -> _Task:
        """Read the answer to the running task, or note that the worker is gone."""
        task, self.task = self.task, None
        header = self.answers.read(_HEADER.size)
        data = self.answers.read(_HEADER.unpack(header)[0]) if len(header) == _HEADER.size else b""
        if data:
            try:
                task.finish(*pickle.loads(data))
            except Exception as exc:  # noqa: BLE001 - an answer that cannot be read back still ends its task
                task.finish(False, exc)
        else:
            task.finish(False, WorkerDied())
        return task


class Executor:
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

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close(cancel=exc[0] is not None)

    def prewarm(self, workers: int) -> None:
        """Fork ``workers`` processes now; each imports OpenCV at once.

        Called as soon as the engine knows there is work, so that the ~0.1 s import runs in
        the workers while this process checks sources, plans and links. The plugins and the
        compute modules, which this process needs too, are loaded first and inherited: loaded
        once rather than once per process.
        """
        if self.jobs > 1 and len(self._workers) < min(self.jobs, max(1, workers)):
            from ..plugins import registry
            from ..pyramid import compute  # noqa: F401

            registry()
            self._spawn(min(self.jobs, max(1, workers)))

    def start(self, fn, items, workers: int | None = None) -> Batch:
        """Start ``fn`` on every item. Inline mode defers the work to ``results()``.

        ``workers`` caps how many processes a small batch needs (one for a single patch).
        """
        items = list(items)
        if self.jobs == 1 or not items:
            return Batch(inline=lambda: [fn(item) for item in items])
        self._spawn(min(self.jobs, workers or len(items)))
        batch = Batch(self)
        batch._tasks = [_Task(fn, item, batch) for item in items]
        with self._lock:
            self._queue.extend(batch._tasks)
            self._dispatch()
            if self._dispatcher is None:
                import threading

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
        _reap_exited()
        if not self._workers:
            return
        import signal

        with self._lock:
            for task in self._queue:
                task.finish(False, WorkerDied())
            self._queue.clear()
            workers = list(self._workers)
            for worker in workers:
                if cancel and worker.pid is not None:  # siblings die with the first worker, their parent
                    _kill(worker.pid, signal.SIGKILL)
                os.close(worker.requests)  # end of input: the worker exits after its task
            self._changed.notify_all()
        if self._dispatcher is not None:
            self._dispatcher.join()
        for worker in workers:
            if cancel:  # wait until it is gone: its answer pipe reaches EOF when it dies
                worker.answers.read()
                if worker.pid is not None:
                    _reap(worker.pid)
            elif worker.pid is not None:
                _exiting.append(worker.pid)
            worker.answers.close()
        self._workers = []
        _reap_exited()

    # -- The parent's side ----------------------------------------------------------------------

    def _spawn(self, count: int) -> None:
        """Fork workers up to ``count``; never while the dispatcher thread runs (fork and threads mix badly)."""
        if self._lock is None:
            import threading

            self._lock = threading.Lock()
            self._changed = threading.Condition(self._lock)
        if self._dispatcher is not None or len(self._workers) >= count:
            return
        self._workers += _fork_workers(count - len(self._workers), [w.requests for w in self._workers])

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
        import select

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


def _fork_workers(count: int, inherited: list[int]) -> list["_Worker"]:
    """Fork ``count`` workers: the first imports OpenCV, then forks the others from itself.

    Forked after that import, a sibling starts with OpenCV loaded, so two workers pay for one
    import (about 0.1 s of CPU, on a two-core machine 0.05 s of a build) instead of two.
    ``inherited`` are the request pipes of earlier workers, which the new ones must not hold.
    """
    pipes = [(os.pipe(), os.pipe()) for _ in range(count)]  # per worker: (requests r, w), (answers r, w)
    sys.stdout.flush()  # a buffered line would otherwise be printed by every process
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the first worker: never returns
        code = 1
        try:
            for fd in inherited:  # so that workers see EOF when the parent closes their pipes
                os.close(fd)
            for (_, requests_w), (answers_r, _) in pipes:
                os.close(requests_w)
                os.close(answers_r)
            _first_worker(pipes, parent)
            code = 0
        finally:
            os._exit(code)
    workers = []
    for number, ((requests_r, requests_w), (answers_r, answers_w)) in enumerate(pipes):
        os.close(requests_r)
        os.close(answers_w)
        workers.append(_Worker(pid if number == 0 else None, requests_w, answers_r))  # siblings: not our children
    return workers


def _first_worker(pipes: list, parent: int) -> None:
    """Import, fork the siblings (each holding only its own pipes), serve, and reap them at the end."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle: it ends the workers
    _warm_up()  # first: this is the critical path of a small patch; no task runs before the next line
    _die_with_parent(parent)
    me = os.getpid()
    siblings = []
    for number in range(1, len(pipes)):
        (requests_r, _), (_, answers_w) = pipes[number]
        pid = os.fork()
        if pid == 0:  # a sibling: never returns
            code = 1
            try:
                for other in [0, *range(number + 1, len(pipes))]:  # earlier siblings' ends are closed already
                    (other_r, _), (_, other_w) = pipes[other]
                    os.close(other_r)
                    os.close(other_w)
                _die_with_parent(me)  # and so with the build: this process dies with it
                _serve(requests_r, answers_w)
                code = 0
            finally:
                os._exit(code)
        os.close(requests_r)
        os.close(answers_w)
        siblings.append(pid)
    (requests_r, _), (_, answers_w) = pipes[0]
    _serve(requests_r, answers_w)
    for pid in siblings:  # they end when the build closes their input, as this one did
        _reap(pid)


def _serve(requests: int, answers: int) -> None:
    """A worker's loop: run each task it is sent and answer with its result or exception."""
    inbox = os.fdopen(requests, "rb")
    while True:
        header = inbox.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the build closed the pool
        fn, item = pickle.loads(inbox.read(_HEADER.unpack(header)[0]))
        try:
            answer = (True, fn(item))
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the build
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an unpicklable exception still reports its text
            data = pickle.dumps((False, RuntimeError(repr(exc))), pickle.HIGHEST_PROTOCOL)
        _write_all(answers, _HEADER.pack(len(data)) + data)


def _die_with_parent(parent: int) -> None:
    """End with the build (Linux), so a killed build leaves no worker writing into its folders."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


_exiting: list[int] = []  # workers told to exit and not yet waited for


def _reap_exited() -> None:
    """Collect the exit status of workers that have ended, without waiting for the others."""
    for pid in list(_exiting):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _exiting.remove(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
