"""Run one command in a child process and measure its wall time, CPU time and peak memory.

Every command starts from a tiny launcher process, never straight from this one: Linux keeps a
process's peak RSS across ``exec``, so a child forked from the benchmark (which holds OpenCV and
big arrays) would report the benchmark's peak as its own. The launcher forks the command and
times it from fork to reaping. It is a child subreaper, so workers that outlive the command
(dzbuild does not wait for idle workers to finish exiting) are reparented to it and reaped too:
the CPU time and peak RSS it reports cover the command and every descendant. Peak RSS per
process comes from a wrapper around dzbuild that waits for its workers, then reports its own
peak (``RUSAGE_SELF``) and its largest worker's (``RUSAGE_CHILDREN``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Runs ``dzbuild`` exactly like its console script, then reports the per-process peaks.
RSS_WRAPPER = """\
import os, resource, sys
from dzbuild.cli import main
code = main(sys.argv[1:])
while True:  # the workers: dzbuild does not wait for them to finish exiting
    try:
        os.wait()
    except ChildProcessError:
        break
kib = lambda who: resource.getrusage(who).ru_maxrss
with open(os.environ["DZBENCH_RSS"], "w") as out:
    out.write(f"{kib(resource.RUSAGE_SELF)} {kib(resource.RUSAGE_CHILDREN)}")
sys.exit(code)
"""

LAUNCHER = """\
import ctypes, os, sys, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphaned descendants come back to us
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
user, system, maxrss = usage.ru_utime, usage.ru_stime, usage.ru_maxrss
while True:
    try:
        _, _, more = os.wait4(-1, 0)
    except ChildProcessError:
        break
    user, system, maxrss = user + more.ru_utime, system + more.ru_stime, max(maxrss, more.ru_maxrss)
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {user} {system} {maxrss} {os.waitstatus_to_exitcode(status)}")
"""

VIPS_SCRIPT = """\
import sys, pyvips
image = pyvips.Image.new_from_file(sys.argv[1], access="sequential")
image.dzsave(sys.argv[2], tile_size=int(sys.argv[3]), overlap=0, suffix=f".jpg[Q={sys.argv[4]}]", layout="dz")
"""


@dataclass
class Run:
    """One measured child process."""

    wall: float
    user: float  # CPU seconds of the child and every descendant it waited for
    sys: float
    peak_mb: float  # largest peak RSS among the child and its descendants
    parent_mb: float | None = None  # the dzbuild process itself (wrapper runs only)
    worker_mb: float | None = None  # the largest worker process (wrapper runs only)
    stdout: str = field(default="", repr=False)


def run(cmd: list[str], env: dict | None = None, check: bool = True) -> Run:
    """Run ``cmd`` from the launcher; its stdout is kept for ``--json`` summaries."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats"
        launch = [sys.executable, "-c", LAUNCHER, str(stats), *map(str, cmd)]
        proc = subprocess.run(launch, capture_output=True, env=env)
        try:
            wall, user, system, maxrss, code = stats.read_text().split()
        except OSError:
            failed = f"the launcher failed for {' '.join(map(str, cmd))}"
            raise RuntimeError(f"{failed}:\n{proc.stderr.decode().strip()}") from None
    if check and int(code) != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({code}):\n{proc.stderr.decode().strip()}")
    return Run(float(wall), float(user), float(system), int(maxrss) / 1024, stdout=proc.stdout.decode())


def dzbuild_launcher() -> list[str]:
    """The installed ``dzbuild`` console script next to this interpreter, else ``python -m dzbuild``."""
    script = Path(sys.executable).with_name("dzbuild")
    if script.exists():
        return [str(script)]
    found = shutil.which("dzbuild")
    return [found] if found else [sys.executable, "-m", "dzbuild"]


def dzbuild(args: list[str]) -> Run:
    """``dzbuild ARGS`` through the console script, as a user runs it."""
    return run([*dzbuild_launcher(), *map(str, args)])


def dzbuild_with_rss(args: list[str]) -> Run:
    """``dzbuild ARGS`` through the wrapper, adding the parent's and the largest worker's peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rss"
        env = {**os.environ, "DZBENCH_RSS": str(report)}
        result = run([sys.executable, "-c", RSS_WRAPPER, *map(str, args)], env=env)
        parent, workers = (int(v) / 1024 for v in report.read_text().split())
    result.parent_mb, result.worker_mb = parent, (workers or None)
    return result


def vips_dzsave(jpeg: Path, out_base: Path, tile_size: int, quality: int) -> Run:
    """libvips' ``dzsave`` of the whole JPEG, in its own process (threads: every core)."""
    return run([sys.executable, "-c", VIPS_SCRIPT, str(jpeg), str(out_base), str(tile_size), str(quality)])


def compile_dzbuild() -> None:
    """Measure dzbuild as ``pip install`` leaves it: with compiled bytecode.

    Some environments set PYTHONDONTWRITEBYTECODE, and then every run of an editable install
    compiles dzbuild's modules from source, which a user's install never does.
    """
    import compileall

    import dzbuild

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(Path(dzbuild.__file__).parent, quiet=1)


def have_pyvips() -> bool:
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def cp_al(src: Path, dst: Path) -> Run:
    """Hard-link copy of a tree: what the filesystem needs just to create a version's links."""
    return run(["cp", "-al", str(src), str(dst)])


def create_cost(folder: Path, files: int = 200) -> float:
    """Milliseconds to create one small file in a fresh folder right now.

    On ext4 without a journal, creating a file skips every inode of the block group freed in the
    last minute or more (``recently_deleted``), one lookup each: after big deletions anywhere
    nearby, every new file costs up to a millisecond of system time. This probe shows how much.
    """
    folder.mkdir(parents=True)
    data = bytes(8192)
    started = time.perf_counter()
    for number in range(files):
        with open(folder / f"{number}.jpg", "wb") as handle:
            handle.write(data)
    return 1000 * (time.perf_counter() - started) / files


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
