"""One build per output folder, checked with real processes: refusal naming the holder, and no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes
from killswitch import start_paused

from dzbuild.errors import LockedError
from dzbuild.io.lock import LOCK_NAME, locked
from dzbuild.maintain.check import check_dest


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.mark.parametrize("pause_at", [3, 40])  # before any tile; in the middle of v0
def test_a_second_build_is_refused_naming_the_first_and_nothing_breaks(tmp_path, pause_at):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    add_version(image_dir, spec, 1, [base(spec, 1, 1)], seed=4, pixels=pixels)
    paused = tmp_path / "paused"
    first = start_paused(tmp_path, ["pyramid", str(image_dir), "--jobs", "1"], pause_at, paused)
    try:
        wait_for(paused, first)
        second = dzbuild("pyramid", str(image_dir))
        assert second.returncode == 6, second.stderr
        assert second.stderr.strip() == (
            f"dzbuild: error: {image_dir / 'dest' / LOCK_NAME}: another dzbuild (process {first.pid})"
            " is building this folder; wait for it"
        )
        assert dzbuild("pyramid", str(image_dir), "--rebuild").returncode == 6  # not even a rebuild
    finally:
        (tmp_path / "paused.go").touch()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    dest = image_dir / "dest"
    assert check_dest(dest, deep=True) == []
    assert (dest / LOCK_NAME).read_bytes() == b""  # the file stays, nothing is written to it
    assert dzbuild("pyramid", str(image_dir)).returncode == 0  # free again


HOLD = """
import os, signal, sys, time
from pathlib import Path
from dzbuild.io.lock import locked
with locked(Path(sys.argv[1])):
    child = os.fork()
    if child == 0:  # like a pool worker: alive after its parent dies (but not holding the test's pipes)
        for fd in (1, 2):
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_lock_dies_with_its_holder_even_if_a_forked_child_lives_on(tmp_path):
    held = subprocess.run([sys.executable, "-c", HOLD, str(tmp_path / "dest")], capture_output=True, text=True)
    assert held.returncode == -signal.SIGKILL
    orphan = int(held.stdout)
    try:
        assert (tmp_path / "dest" / LOCK_NAME).exists()  # a stale file, holding nothing
        with locked(tmp_path / "dest"):
            pass
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_a_stale_lock_file_from_a_dead_process_does_not_block(tmp_path):
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / LOCK_NAME).write_text("999999\n")  # e.g. an older dzbuild's pid
    with locked(tmp_path / "dest") as path:
        assert path.read_text() == "999999\n"  # the holder is read from /proc/locks, never written
    assert path.exists()  # the folder was not ours to clean


def test_a_failed_first_build_leaves_no_output_folder(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 64)
    (image_dir / "v0" / "1_1.jpg").write_bytes(b"not a jpeg")
    before = tree_bytes(image_dir)
    done = dzbuild("pyramid", str(image_dir))
    assert done.returncode == 3 and "1_1.jpg" in done.stderr
    assert not (image_dir / "dest").exists() and tree_bytes(image_dir) == before


CONTEND = """
import os, sys, time
from pathlib import Path
from dzbuild.errors import LockedError
from dzbuild.io.lock import locked
folder, marker = Path(sys.argv[1]), Path(sys.argv[1]) / "inside"
done = 0
while done < 40:
    try:
        with locked(folder):
            if marker.exists():
                sys.exit("two holders at once")
            marker.touch()
            time.sleep(0.0005)
            marker.unlink()
            done += 1
    except LockedError:
        time.sleep(0.0002)
"""


def test_contended_locking_never_admits_two_holders(tmp_path):
    """The lock file is removed on release; a process that opened the old file must not win with it."""
    folder = tmp_path / "dest"
    folder.mkdir()
    workers = [subprocess.Popen([sys.executable, "-c", CONTEND, str(folder)], stderr=subprocess.PIPE) for _ in range(4)]
    results = [(w.wait(timeout=120), w.stderr.read()) for w in workers]
    assert results == [(0, b"")] * 4


def test_locked_refuses_in_process_too(tmp_path):
    with locked(tmp_path / "dest"):
        with pytest.raises(LockedError, match=f"process {os.getpid()}"):
            with locked(tmp_path / "dest"):
                pass
