"""The worker side of the fork pool: forking the workers, and the loop each one runs.

The first worker imports OpenCV the moment it is forked, while the build goes on checking
and linking, and then forks its siblings, which so start with OpenCV loaded. Every message
on a pipe is its length, then a pickle.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import struct
import sys

from ..heavy import cv, np
from ..plugins import registry

HEADER = struct.Struct("<Q")  # every message: its length, then a pickle


def _warm_up() -> None:
    cv()
    np()
    registry()


def fork_workers(count: int, inherited: list[int]) -> list[tuple[int | None, int, int]]:
    """Fork ``count`` workers; return ``(pid, requests fd, answers fd)`` for each (pid None: a sibling).

    The first imports OpenCV, then forks the others from itself: forked after that import, a
    sibling starts with OpenCV loaded, so two workers pay for one import (about 0.1 s of CPU,
    on a two-core machine 0.05 s of a build) instead of two.
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
        workers.append((pid if number == 0 else None, requests_w, answers_r))  # siblings: not our children
    return workers


def _first_worker(pipes: list, parent: int) -> None:
    """Import, fork the siblings (each holding only its own pipes), serve, and reap them at the end."""
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
        reap(pid)


def _serve(requests: int, answers: int) -> None:
    """A worker's loop: run each task it is sent and answer with its result or exception."""
    inbox = os.fdopen(requests, "rb")
    while True:
        header = inbox.read(HEADER.size)
        if len(header) < HEADER.size:
            return  # the build closed the pool
        fn, item = pickle.loads(inbox.read(HEADER.unpack(header)[0]))
        try:
            answer = (True, fn(item))
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the build
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an unpicklable exception still reports its text
            data = pickle.dumps((False, RuntimeError(repr(exc))), pickle.HIGHEST_PROTOCOL)
        write_all(answers, HEADER.pack(len(data)) + data)


def _die_with_parent(parent: int) -> None:
    """End with the build (Linux), so a killed build leaves no worker writing into its folders."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


exiting: list[int] = []  # workers told to exit and not yet waited for


def reap_exited() -> None:
    """Collect the exit status of workers that have ended, without waiting for the others."""
    for pid in list(exiting):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            exiting.remove(pid)


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
