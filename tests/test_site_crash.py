"""Kill a real ``dzbuild build`` (SIGKILL, SIGTERM, Ctrl-C) and a real ``dzbuild ingest``: the next run
removes every temporary thing the killed one made, and the output equals a clean build's.

A temporary name always carries ``PARTIAL_MARK``; after the rerun none may be left anywhere in the
site (output, cache) or in an image folder, since whatever is in the output gets deployed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from imagedirs import tree_bytes
from killswitch import operations, run, start_paused
from sites import make_site

from dzbuild.io.files import PARTIAL_MARK
from dzbuild.io.lock import LOCK_NAME
from dzbuild.testing import synthetic_image, unavailable

KILLED = -9
TRIED: list[str] = []  # labels of the kills made, for messages


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A two-image site and the output of an uninterrupted build of it."""
    root = tmp_path_factory.mktemp("site-crash")
    source = make_site(root / "src")
    clean = root / "clean"
    shutil.copytree(source, clean)
    assert run(root, ["build", str(clean), "--jobs", "1"]).returncode == 0
    return root, source, tree_bytes(clean / "_site")


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if PARTIAL_MARK in p.name)


def fresh(site, name: str) -> Path:
    root, source, _ = site
    copy = root / "cases" / name
    shutil.copytree(source, copy)
    return copy


def assert_rerun_cleans_up(site, copy: Path, label: str) -> None:
    rerun = run(site[0], ["build", str(copy), "--jobs", "1"])
    assert rerun.returncode == 0, f"{label}: {rerun.stderr}"
    assert leftovers(copy) == [], label
    assert tree_bytes(copy / "_site") == site[2], label


def test_sigkill_at_every_kind_of_temporary_name_in_the_output(site):
    ops = operations(site[0], ["build", str(fresh(site, "count")), "--jobs", "1"], where="parent")
    temporary = [op for op in ops if PARTIAL_MARK in op.path and "/_site/" in op.path]
    kinds: dict[tuple[str, str], int] = {}
    for op in temporary:  # the first operation of each kind on each kind of temporary name
        name = Path(op.path).name if PARTIAL_MARK in Path(op.path).name else Path(op.path).parent.name
        kind = name.split(PARTIAL_MARK)[0].lstrip(".")
        kinds.setdefault((op.name, "version" if kind.startswith("v") and kind[1:].isdigit() else kind), op.number)
    assert {("mkdir", "version"), ("open", "index.html")} <= set(kinds), kinds
    for (name, kind), number in sorted(kinds.items(), key=lambda item: item[1]):
        copy = fresh(site, f"kill-{number}")
        killed = run(site[0], ["build", str(copy), "--jobs", "1"], kill_at=number, where="parent")
        TRIED.append(f"build killed at {name} of {kind} (#{number})")
        assert killed.returncode == KILLED, killed.stderr
        assert_rerun_cleans_up(site, copy, TRIED[-1])


def test_a_killed_first_build_leaves_a_partial_version_that_the_next_build_removes(site):
    """The reported case: ``_site/IMAGE/dzi/.v0.partial-PID/`` half full, from a build killed mid-link."""
    ops = operations(site[0], ["build", str(fresh(site, "count-links")), "--jobs", "1"], where="parent")
    links = [op.number for op in ops if op.name == "link" and "/_site/a/dzi/.v0" in op.path]
    copy = fresh(site, "mid-link")
    killed = run(site[0], ["build", str(copy), "--jobs", "1"], kill_at=links[len(links) // 2], where="parent")
    assert killed.returncode == KILLED
    assert [p for p in leftovers(copy / "_site") if p.startswith("a/dzi/.v0")], "the kill left nothing to clean up"
    assert_rerun_cleans_up(site, copy, "mid-link")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_while_linking_into_the_output(site, signum, tmp_path):
    ops = operations(site[0], ["build", str(fresh(site, f"count-{signum}")), "--jobs", "1"], where="parent")
    number = next(op.number for op in ops if op.name == "link" and "/_site/b/dzi/.v0" in op.path)
    copy = fresh(site, f"signal-{signum}")
    pause = tmp_path / "paused"
    process = start_paused(tmp_path, ["build", str(copy), "--jobs", "1"], number, pause)
    _wait_for(pause, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    if signum == signal.SIGINT:  # handled: one line, exit 130, and nothing half-made left in the output
        assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
        assert leftovers(copy / "_site") == []
    else:
        assert process.returncode == -signal.SIGTERM
    TRIED.append(f"build stopped by signal {signum}")
    assert_rerun_cleans_up(site, copy, f"signal {signum}")


def _wait_for(pause: Path, process: subprocess.Popen) -> None:
    while not pause.exists():
        assert process.poll() is None, process.communicate()
        os.sched_yield()


def test_a_killed_ingest_leaves_nothing_in_the_image_folder_after_the_next_ingest(tmp_path):
    """SIGKILL while cutting ``v1``: its partial folder and the lock file go with the next ingest."""
    import cv2

    picture = tmp_path / "picture.png"
    pixels = synthetic_image(300, 200, seed=1)
    cv2.imwrite(str(picture), pixels)
    image = tmp_path / "img"
    assert run(tmp_path, ["ingest", str(picture), str(image), "--tile-size", "64"]).returncode == 0
    pixels[:, :] = 255 - pixels
    cv2.imwrite(str(picture), pixels)
    killed = run(tmp_path, ["ingest", str(picture), str(image)], kill_at=4, match=".v1.partial")
    assert killed.returncode == KILLED, killed.stderr
    assert leftovers(image) and (image / LOCK_NAME).exists()  # what the issue found
    again = run(tmp_path, ["ingest", str(picture), str(image)])
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in image.iterdir()) == ["pyramid.json", "v0", "v1"]


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs (CI runs as root and can mount one); elsewhere the test is skipped, in CI it fails."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_during_a_site_build_leaves_nothing_half_made_in_the_output(site, small_disk):
    """The cache is built; the output is deleted and copied in again (storage = "copy") onto a full disk."""
    copy = small_disk / "site"
    shutil.copytree(site[1], copy)
    config = copy / "dzbuild.toml"
    config.write_text('storage = "copy"\n' + config.read_text())
    assert run(small_disk, ["build", str(copy), "--jobs", "1"]).returncode == 0
    shutil.rmtree(copy / "_site")
    filler = small_disk / "filler"
    free = os.statvfs(small_disk)
    with open(filler, "wb") as handle:  # room for a few tiles of the output, not for all of it
        handle.write(b"\0" * (free.f_bavail * free.f_frsize - 16384))
    failed = run(small_disk, ["build", str(copy), "--jobs", "1", "--progress", "quiet"])
    assert failed.returncode == 7 and "No space left on device" in failed.stderr, failed.stderr
    assert len(failed.stderr.splitlines()) == 1 and "Traceback" not in failed.stderr
    assert "/_site/" in failed.stderr  # names the file being written, not the cache file it copies
    assert leftovers(copy) == []  # a full disk removes what it was assembling at once
    filler.unlink()
    rerun = run(small_disk, ["build", str(copy), "--jobs", "1"])
    assert rerun.returncode == 0 and leftovers(copy) == [], rerun.stderr
    assert tree_bytes(copy / "_site") == site[2]
