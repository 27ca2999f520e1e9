"""Run the real ``dzbuild`` command in a subprocess that SIGKILLs itself at the N-th file operation.

The driver wraps the calls a build makes to change the disk (``open`` for writing, ``os.link``,
``os.symlink``, ``os.rename``, ``os.replace``, ``os.fsync``, ``os.mkdir``, ``os.unlink``,
``os.rmdir``) with a counter, so no test hook lives in the production code. Forked workers
inherit the wrappers. With ``log`` set and ``kill_at=0`` it only records every operation, which
is how the tests pick kill points spread over a build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WRAPPERS = r'''
import builtins, io, os, signal, sys

AT = int(os.environ.get("DZ_KILL_AT", "0"))
WHERE = os.environ.get("DZ_KILL_WHERE", "any")  # parent, worker or any
TORN = os.environ.get("DZ_KILL_TORN") == "1"  # at the kill point, write half of the data first
LOG = os.environ.get("DZ_KILL_LOG")
MATCH = os.environ.get("DZ_KILL_MATCH", "")  # count only operations on paths containing this
PAUSE = os.environ.get("DZ_PAUSE_FILE")  # instead of dying: create PAUSE, wait until PAUSE.go exists
ROOT = os.getpid()
real_open = builtins.open
count = 0


def hit(op, detail):
    global count
    worker = os.getpid() != ROOT
    if (WHERE == "parent" and worker) or (WHERE == "worker" and not worker) or MATCH not in str(detail):
        return False
    count += 1
    if LOG:
        with real_open(LOG, "a") as log:
            log.write(f"{count}\t{int(worker)}\t{op}\t{detail}\n")
    return count == AT


def die():
    if PAUSE:
        import time

        real_open(PAUSE, "w").close()
        while not os.path.exists(PAUSE + ".go"):
            time.sleep(0.01)
        return
    os.kill(os.getpid(), signal.SIGKILL)


class Torn:
    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        die()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def __getattr__(self, name):
        return getattr(self.handle, name)


def wrap(name):
    real = getattr(os, name)

    def wrapper(*args, **kwargs):
        path = args[-1] if name in ("link", "symlink", "rename", "replace") else args[0]
        folder = kwargs.get("dst_dir_fd", kwargs.get("dir_fd"))
        if folder is not None and not str(path).startswith("/"):  # linkat and friends: name the whole path
            path = os.path.join(os.readlink(f"/proc/self/fd/{folder}"), path)
        if hit(name, path):
            die()  # or pause
        return real(*args, **kwargs)

    setattr(os, name, wrapper)


def opener(file, mode="r", *args, **kwargs):
    writing = any(flag in mode for flag in "wax+")
    if writing and not isinstance(file, int) and hit("open", file):
        if TORN:
            return Torn(real_open(file, mode, *args, **kwargs))
        die()
    return real_open(file, mode, *args, **kwargs)


for name in ("link", "symlink", "rename", "replace", "fsync", "mkdir", "unlink", "rmdir"):
    wrap(name)
builtins.open = io.open = opener
'''
DRIVER = WRAPPERS + """
from dzbuild.cli import main

sys.exit(main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class Op:
    number: int
    in_worker: bool
    name: str  # link, symlink, rename, replace, fsync, mkdir, unlink, rmdir or open
    path: str


def run(tmp: Path, args: list[str], kill_at: int = 0, where: str = "any", torn: bool = False, log: Path | None = None,
        match: str = "", fork: bool = True) -> subprocess.CompletedProcess:
    """Run ``dzbuild ARGS`` in a new process; returncode -9 means it was killed as asked.

    ``where`` counts the operations of the ``parent``, of each ``worker`` (every process has its
    own count) or of ``any``; ``match`` counts only operations on paths that contain it. The
    process is forked from this one (no interpreter start, no OpenCV import: ten times faster)
    unless ``fork`` is False, which runs the driver script in a fresh interpreter.
    """
    env = {"DZ_KILL_AT": str(kill_at), "DZ_KILL_WHERE": where, "DZ_KILL_MATCH": match, "DZ_KILL_TORN": str(int(torn))}
    env["DZ_KILL_LOG"] = str(log) if log is not None else ""
    if fork:
        return _forked(tmp, args, env)
    driver = tmp / "kill_driver.py"
    driver.write_text(DRIVER)
    command = [sys.executable, str(driver), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def _forked(tmp: Path, args: list[str], env: dict) -> subprocess.CompletedProcess:
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            for fd, path in ((1, out), (2, err)):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
            os.environ.update(env)
            exec(WRAPPERS, {"__name__": "killswitch_child"})
            from dzbuild.cli import main

            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def operations(tmp: Path, args: list[str], where: str = "any") -> list[Op]:
    """Every counted operation of one uninterrupted run, in order."""
    log = tmp / "ops.log"
    log.unlink(missing_ok=True)
    done = run(tmp, args, where=where, log=log)
    assert done.returncode == 0, done.stderr
    ops = []
    for line in log.read_text().splitlines():
        number, worker, name, path = line.split("\t", 3)
        ops.append(Op(int(number), worker == "1", name, path))
    return ops


def start_paused(tmp: Path, args: list[str], pause_at: int, pause_file: Path, where="parent") -> subprocess.Popen:
    """Start ``dzbuild ARGS`` in a fresh interpreter that stops at its ``pause_at``-th operation.

    It creates ``pause_file`` when it stops and goes on once ``pause_file.go`` exists.
    """
    driver = tmp / "kill_driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "DZ_KILL_AT": str(pause_at), "DZ_KILL_WHERE": where, "DZ_PAUSE_FILE": str(pause_file)}
    return subprocess.Popen(
        [sys.executable, str(driver), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
