"""SIGKILL a real build at many points, then rerun: published versions stay whole and the rerun finishes.

After every kill: each version with a record is byte-identical to a clean build, every visible
version folder has a record (or a pending one, whose folder is complete and which the next run
commits), and the rerun exits 0 leaving an output that ``check_dest(deep=True)`` passes and that
is byte-identical to the clean build. Kill points are chosen from a logged uninterrupted run so
that they spread over every step: folders made, tiles written and linked, the descriptor, the
pending record, the final rename, the commit, between versions, and inside worker processes.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from documented import stated_number
from imagedirs import add_version, base, make_image_dir, tree_bytes
from killswitch import Op, operations, run

from dzbuild.errors import BuildError
from dzbuild.io.lock import locked
from dzbuild.maintain.check import check_dest
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import plugin_registered, unavailable

KILLED = -9
CASES = itertools.count()  # a fresh folder name for every killed build
PARENT_KILLS_WITH_WORKERS = (3, 25, 60, 110)  # operations of a --jobs 2 build's parent
REBUILD_KILLS = (1, 3, 30)  # moving the old output aside, deleting it, building anew


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """Three versions of a 300x200 image in 64-pixel tiles; v2 overlaps v1; plus a clean build of it."""
    root = tmp_path_factory.mktemp("crash")
    image_dir, spec, pixels = make_image_dir(root, 300, 200, 64)
    pixels = add_version(image_dir, spec, 1, [base(spec, 0, 0), base(spec, 3, 2)], seed=5, pixels=pixels)
    add_version(image_dir, spec, 2, [base(spec, 0, 0), base(spec, 4, 3)], seed=6, pixels=pixels)
    clean = root / "clean"
    shutil.copytree(image_dir, clean)
    assert run(root, ["pyramid", str(clean), "--jobs", "1"]).returncode == 0
    return root, image_dir, clean / "dest", spec


@pytest.fixture(scope="module")
def logged(image) -> list:
    """The operations of one uninterrupted ``--jobs 1`` build, from which kill points are chosen."""
    return logged_run(image, "count")


def fresh_copy(image, name: str) -> Path:
    """A copy of the sources (mtimes kept, so records match the clean build) with no output yet."""
    root, image_dir = image[:2]
    copy = root / "cases" / name
    shutil.copytree(image_dir, copy)
    return copy


def versions(dest: Path) -> list[str]:
    folder = dest / "dzi"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def assert_nothing_partial_visible(dest: Path, clean: Path, label: str) -> None:
    """What a crash may leave: whole published versions, whole pending ones, hidden temporary folders."""
    state = dest / ".dzbuild"
    for name in versions(dest):
        has_record = (state / f"{name}.json").exists() or (state / f"{name}.pending.json").exists()
        assert has_record, f"{label}: {name} is visible without a record"
        assert tree_bytes(dest / "dzi" / name) == tree_bytes(clean / "dzi" / name), f"{label}: {name} differs"
    for record in state.glob("v*.json") if state.is_dir() else []:
        if ".pending" in record.name or record.name.endswith(".sources.json"):  # no version of its own
            continue
        assert (dest / "dzi" / record.stem).is_dir(), f"{label}: {record.name} without its folder"
        assert json.loads(record.read_text()) == json.loads((clean / ".dzbuild" / record.name).read_text()), label


def assert_finished(copy: Path, clean: Path, label: str, jobs: str = "1") -> None:
    rerun = run(copy.parent, ["pyramid", str(copy), "--jobs", jobs])
    assert rerun.returncode == 0, f"{label}: rerun failed: {rerun.stderr}"
    dest = copy / "dest"
    assert versions(dest) == ["v0", "v1", "v2"], label
    for name in versions(dest):
        assert tree_bytes(dest / "dzi" / name) == tree_bytes(clean / "dzi" / name), f"{label}: {name} differs"
    assert check_dest(dest, deep=True) == [], label  # nothing half-built left in dest...
    with locked(dest):  # the lock file stays in dest between runs, but nobody holds it
        pass
    assert sorted(p.name for p in copy.iterdir()) == ["dest", "pyramid.json", "v0", "v1", "v2"], label  # ...or beside


def kill_and_rerun(image, label: str, kill_at: int, where="any", torn=False, jobs="1", match="", fork=True):
    root, _, clean, _ = image
    copy = fresh_copy(image, f"{next(CASES)}")
    args = ["pyramid", str(copy), "--jobs", jobs]
    killed = run(root, args, kill_at=kill_at, where=where, torn=torn, match=match, fork=fork)
    if where == "worker":  # the build itself survives and says so in one line
        assert killed.returncode == 7 and "worker process died" in killed.stderr, (label, killed.stderr)
        assert len(killed.stderr.strip().splitlines()) == 1, killed.stderr
    else:
        assert killed.returncode == KILLED, f"{label}: not killed (exit {killed.returncode}) {killed.stderr}"
    assert_nothing_partial_visible(copy / "dest", clean, label)
    assert_finished(copy, clean, label, jobs)
    return copy


def step(op: Op) -> str:
    """What a build does at ``op``, in words."""
    name = Path(op.path).name
    if op.name == "open":
        if name.endswith(".jpg"):
            return "tile write"
        if name.endswith(".sources.json"):
            return "sources write"
        return "descriptor write" if name == "dzi.xml" else "pending record write"
    if op.name == "replace":
        return "pending record rename" if ".pending" in name else "commit"
    return {"link": "link", "mkdir": "folder", "rename": "final rename", "fsync": "record fsync"}.get(op.name, op.name)


def version_of(op: Op) -> str:
    for part in Path(op.path).parts + (Path(op.path).name,):
        for prefix in (".v", "v"):
            head = part.split(".partial", 1)[0].split(".pending", 1)[0].removesuffix(".json")
            if head.startswith(prefix) and head[len(prefix):].isdigit():
                return head[len(prefix):]
    return "?"


def spread(ops: list[Op], per_step: int) -> list[Op]:
    """Up to ``per_step`` operations (first, middle, last...) of every step of every version."""
    groups: dict[tuple[str, str], list[Op]] = {}
    for op in ops:
        groups.setdefault((version_of(op), step(op)), []).append(op)
    chosen = []
    for group in groups.values():
        picks = {group[round(i * (len(group) - 1) / max(1, per_step - 1))] for i in range(min(per_step, len(group)))}
        chosen += sorted(picks, key=lambda op: op.number)
    return sorted(chosen, key=lambda op: op.number)


def logged_run(image, name: str) -> list[Op]:
    return operations(image[0], ["pyramid", str(fresh_copy(image, name)), "--jobs", "1"], where="parent")


def inline_points(ops: list[Op]) -> list[Op]:
    points = [op for op in spread(ops, 1) if step(op) not in ("unlink", "rmdir")]  # unlocking: nothing left to lose
    return points + [op for op in spread([op for op in ops if version_of(op) == "0"], 3) if op not in points][:4]


def torn_points(ops: list[Op]) -> list[Op]:
    """The first tile, descriptor and pending record that v1 writes."""
    wanted = {"tile write", "descriptor write", "pending record write"}
    points = [op for op in ops if step(op) in wanted and version_of(op) == "1"]
    return list({step(op): op for op in reversed(points)}.values())


def worker_points(grid) -> list[tuple[str, int]]:
    """A worker's first, middle and last tile of v0, and a tile of v1 and of v2: (version, tile number)."""
    last = grid.total_tiles - grid.tile_count(grid.max_level)  # tiles v0 computes
    return [("0", 1), ("0", last // 2), ("0", last), ("1", 3), ("2", 5)]


def recovery_points(ops: list[Op]) -> list[tuple[int, int]]:
    """(first kill, second kill during the rerun's recovery): mid-link, last link and pending rename of v1."""
    linking = [op.number for op in ops if step(op) == "link" and version_of(op) == "1"]
    pending = next(op.number for op in ops if step(op) == "final rename" and version_of(op) == "1")
    return [(linking[len(linking) // 2], 1), (linking[-1], 4), (pending, 1)]


def test_kill_points_spread_over_an_inline_build(image, logged):
    points = inline_points(logged)
    steps = {step(op) for op in points}
    assert {"tile write", "link", "descriptor write", "pending record write", "final rename", "commit"} <= steps
    assert len(points) >= 20
    for op in points:
        kill_and_rerun(image, f"jobs 1, #{op.number}: {step(op)} of v{version_of(op)}", op.number, "parent")


def test_torn_writes(image, logged):
    """Killed halfway through writing a tile, the descriptor and the pending record."""
    points = torn_points(logged)
    assert {step(op) for op in points} == {"tile write", "descriptor write", "pending record write"}
    for op in points:
        kill_and_rerun(image, f"torn {step(op)} #{op.number}", op.number, "parent", torn=True)  # asserts the kill


def test_kill_inside_worker_processes(image):
    """A worker computes the tiles of each version: kill it at its first, middle or last tile."""
    for version, number in worker_points(image[3].grid):
        label = f"worker, tile write #{number} of v{version}"
        kill_and_rerun(image, label, number, "worker", jobs="2", match=f".v{version}.partial")


def test_kill_the_build_while_its_workers_compute(image):
    """The orphaned workers must neither keep the lock nor write into a folder being cleaned up.

    Run by the driver script in a fresh interpreter, exactly like ``dzbuild`` on the command line.
    """
    for number in PARENT_KILLS_WITH_WORKERS:
        kill_and_rerun(image, f"jobs 2, parent op #{number}", number, "parent", jobs="2", fork=False)


def test_kill_during_the_recovery_of_a_killed_build(image, logged):
    root, _, clean, _ = image
    for first, second in recovery_points(logged):
        copy = fresh_copy(image, f"{next(CASES)}-chain")
        assert run(root, ["pyramid", str(copy), "--jobs", "1"], kill_at=first, where="parent").returncode == KILLED
        again = run(root, ["pyramid", str(copy), "--jobs", "1"], kill_at=second, where="parent")
        label = f"recovery #{second} after #{first}"
        assert again.returncode == KILLED
        assert_nothing_partial_visible(copy / "dest", clean, label)
        assert_finished(copy, clean, label)


def test_kill_a_rebuild(image):
    root, _, clean, _ = image
    for number in REBUILD_KILLS:
        copy = fresh_copy(image, f"{next(CASES)}-rebuild")
        assert run(root, ["pyramid", str(copy), "--jobs", "1"]).returncode == 0
        killed = run(root, ["pyramid", str(copy), "--jobs", "1", "--rebuild"], kill_at=number, where="parent")
        label = f"rebuild #{number}"
        assert killed.returncode == KILLED
        assert_nothing_partial_visible(copy / "dest", clean, label)
        assert_finished(copy, clean, label)



# -- A full disk -------------------------------------------------------------------------------------


class FullDisk:
    """A storage whose disk fills up after ``budget`` files: every later write or link fails with ENOSPC."""

    name = "full-disk"

    def __init__(self, budget: int) -> None:
        self.budget = budget

    def _spend(self, path: str) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    def write(self, path: str, data: bytes) -> None:
        self._spend(path)
        Path(path).write_bytes(data)

    def link(self, target: str, path: str) -> None:
        self._spend(path)
        os.link(target, path)


@pytest.fixture
def full_disk_storage():
    """Register a throwaway plugin providing the ``full-disk`` storage; unregister it afterwards."""
    from dzbuild import plugins
    from dzbuild.hookspecs import hookimpl

    class Plugin:
        budget = 0

        @hookimpl
        def register_storages(self, register):
            register(FullDisk(self.budget))

    plugin = Plugin()
    manager = plugins.get_plugin_manager()
    manager.register(plugin, name="test-full-disk")
    plugins.reset()
    yield plugin
    manager.unregister(plugin)
    plugins.reset()


@pytest.mark.parametrize("budget", [0, 12, 30])
def test_a_full_disk_fails_clearly_and_keeps_earlier_versions(tmp_path, image, full_disk_storage, budget):
    _, image_dir, clean, _ = image
    copy = tmp_path / "img"
    shutil.copytree(image_dir, copy)
    shutil.move(copy / "v2", tmp_path / "v2")
    build_pyramid(copy, options=BuildOptions(jobs=1))
    before = tree_bytes(copy / "dest")
    shutil.move(tmp_path / "v2", copy / "v2")
    full_disk_storage.budget = budget
    with pytest.raises(BuildError, match="No space left on device") as error:
        build_pyramid(copy, options=BuildOptions(jobs=1, storage="full-disk"))
    assert error.value.exit_code == 7 and "earlier versions are intact" in str(error.value)
    assert tree_bytes(copy / "dest") == before and versions(copy / "dest") == ["v0", "v1"]
    assert check_dest(copy / "dest") == []  # no pending record, no temporary folder, nothing extra
    build_pyramid(copy, options=BuildOptions(jobs=1))
    assert tree_bytes(copy / "dest" / "dzi" / "v2") == tree_bytes(clean / "dzi" / "v2")
    assert check_dest(copy / "dest", deep=True) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, when this machine lets the tests mount one (root); otherwise the test is skipped."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        unavailable("cannot mount a tmpfs here (needs root); the full-disk storage test covers the same path")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_really_full_disk_through_the_command_line(image, small_disk):
    _, image_dir, clean, _ = image
    copy = small_disk / "img"
    shutil.copytree(image_dir, copy, ignore=shutil.ignore_patterns("v2"))
    assert run(small_disk.parent, ["pyramid", str(copy)]).returncode == 0
    before = tree_bytes(copy / "dest")
    shutil.copytree(image_dir / "v2", copy / "v2")
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill every last block
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    failed = run(small_disk.parent, ["pyramid", str(copy)])
    assert failed.returncode == 7 and "Traceback" not in failed.stderr, failed.stderr
    assert len(failed.stderr.splitlines()) == 1 and "could not build v2: No space left on device" in failed.stderr
    assert tree_bytes(copy / "dest") == before and versions(copy / "dest") == ["v0", "v1"]
    filler.unlink()
    assert check_dest(copy / "dest") == []
    assert run(small_disk.parent, ["pyramid", str(copy)]).returncode == 0
    assert tree_bytes(copy / "dest" / "dzi" / "v2") == tree_bytes(clean / "dzi" / "v2")
    assert check_dest(copy / "dest", deep=True) == []


# -- Several formats ----------------------------------------------------------------------------------


@pytest.fixture
def zoomify():
    """The repository's Zoomify plugin, registered in this process (forked runs inherit it)."""
    with plugin_registered(pytest.importorskip("dzbuild_zoomify"), "test-zoomify"):
        yield


ZOOMIFY_ARGS = ["pyramid", "IMAGE", "--jobs", "1", "--format", "zoomify"]


def zoomify_points(image) -> list[int]:
    """Each version's zoomify rename (its dzi folder is in place, the zoomify one not yet) and the first link."""
    probe = fresh_copy(image, f"{next(CASES)}-zoomify-count")
    ops = operations(image[0], [str(probe) if a == "IMAGE" else a for a in ZOOMIFY_ARGS], where="parent")
    points = [op.number for op in ops if op.name == "rename" and "/zoomify/" in op.path]
    return points + [next(op.number for op in ops if op.name == "link" and "zoomify" in op.path)]


def test_kill_between_the_formats_of_a_version(image, zoomify):
    """The first format renamed into place, the second not yet: the version must not be committed half."""
    root, args = image[0], ZOOMIFY_ARGS
    clean = fresh_copy(image, "zoomify-clean")
    assert run(root, [str(clean) if a == "IMAGE" else a for a in args]).returncode == 0
    for number in zoomify_points(image):
        copy = fresh_copy(image, f"{next(CASES)}-zoomify")
        argv = [str(copy) if a == "IMAGE" else a for a in args]
        assert run(root, argv, kill_at=number, where="parent").returncode == KILLED
        state = copy / "dest" / ".dzbuild"
        for record in state.glob("v*.json"):
            if ".pending" not in record.name and not record.name.endswith(".sources.json"):
                version = record.name.removesuffix(".json")
                assert (copy / "dest" / "zoomify" / version).is_dir(), f"{record.name} committed without zoomify"
        assert run(root, argv).returncode == 0
        for fmt in ("dzi", "zoomify"):
            for version in ("v0", "v1", "v2"):
                finished, expected = copy / "dest" / fmt / version, clean / "dest" / fmt / version
                assert tree_bytes(finished) == tree_bytes(expected), (number, fmt, version)
        assert check_dest(copy / "dest", deep=True) == []


def test_the_guarantees_state_how_many_kill_points_the_kill_tests_try(image, logged, zoomify):
    """Counted from the points each kill test chooses, not from the kills this session happened to run."""
    counts = {
        "inline": len(inline_points(logged)),
        "torn": len(torn_points(logged)),
        "worker": len(worker_points(image[3].grid)),
        "parent with workers": len(PARENT_KILLS_WITH_WORKERS),
        "recovery": len(recovery_points(logged)),
        "rebuild": len(REBUILD_KILLS),
        "zoomify": len(zoomify_points(image)),
    }
    assert sum(counts.values()) == stated_number("guarantees.md", r"SIGKILLs real builds at (\d+) points"), counts
