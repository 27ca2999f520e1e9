"""``dzbuild vacuum``: removed versions are gone, kept ones unchanged byte for byte, later builds fine, crash-safe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes
from killswitch import operations, run

from dzbuild.errors import BuildError, ConfigError
from dzbuild.maintain.check import check_dest
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.vacuum import vacuum

CHANGES = [[(1, 1)], [(3, 2)], [(1, 1), (4, 3)], [(0, 0)]]  # v1..v4: v3 re-changes v1's tile


def image(tmp_path: Path, storage: str = "hardlink", versions: int = 5):
    """A 300x200 image (tile 64) with ``versions`` versions built."""
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    for number, tiles in enumerate(CHANGES[: versions - 1], start=1):
        pixels = add_version(image_dir, spec, number, [base(spec, *t) for t in tiles], seed=number, pixels=pixels)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, storage=storage))
    return image_dir, image_dir / "dest"


def contents(dest: Path) -> dict[str, dict]:
    return {p.name: tree_bytes(p) for p in sorted((dest / "dzi").iterdir()) if not p.name.startswith(".")}


def files(*folders: Path) -> set[tuple[int, int]]:
    """The regular files (inodes) below ``folders``: what takes space."""
    found = set()
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                found.add((path.stat().st_dev, path.stat().st_ino))
    return found


@pytest.mark.parametrize("storage", ["hardlink", "symlink", "copy"])
def test_removed_versions_go_and_kept_ones_stay_identical(tmp_path, storage):
    image_dir, dest = image(tmp_path, storage)
    before = contents(dest)
    files_before = files(dest / "dzi", *image_dir.glob("v*"))
    report = vacuum(image_dir, remove="v1..v3")
    assert report.removed == [1, 2, 3] and report.kept == [0, 4]
    assert contents(dest) == {"v0": before["v0"], "v4": before["v4"]}
    assert check_dest(dest, deep=True) == []
    for number in (1, 2, 3):
        record = json.loads((dest / ".dzbuild" / f"v{number}.json").read_text())
        assert record["vacuumed"] is True and "owners" not in record
    assert report.files_freed == len(files_before - files(dest / "dzi", *image_dir.glob("v*"))) > 0
    assert report.entries_removed == sum(len(before[f"v{n}"]) for n in (1, 2, 3))
    assert report.bytes_freed > 0
    if storage == "symlink":  # v4 linked to v2's (1, 1) of level 8, v3's (2, 1) of level 8 and (1, 0) of 7
        assert report.moved == 3


def test_v0_can_go_too_its_files_move_and_links_follow(tmp_path):
    image_dir, dest = image(tmp_path, "symlink")
    before = contents(dest)
    report = vacuum(image_dir, remove="v0..v2")
    assert contents(dest) == {"v3": before["v3"], "v4": before["v4"]}
    assert report.moved > 0 and report.relinked > 0  # into v3, and v4 re-pointed from v0 to v3
    assert check_dest(dest, deep=True) == []


def test_files_move_and_links_follow_through_the_storage_plugins(tmp_path, monkeypatch):
    """Materialising is the hard-link storage's link, re-pointing the symbolic-link storage's."""
    from dzbuild.plugins import registry

    image_dir, dest = image(tmp_path, "symlink")
    calls = {"hardlink": [], "symlink": []}
    for name, placed in calls.items():
        storage = registry().get("storage", name)
        original = storage.link
        monkeypatch.setattr(storage, "link", lambda t, p, o=original, seen=placed: (seen.append((t, p)), o(t, p))[1])
    report = vacuum(image_dir, remove="v0..v2")
    assert len(calls["hardlink"]) == report.moved > 0 and len(calls["symlink"]) == report.relinked > 0
    for target, path in calls["hardlink"] + calls["symlink"]:
        assert ".partial-vacuum" in path and not Path(target).is_symlink()  # made aside, then replaced into place
    assert not list((dest / "dzi").glob(".*"))  # no scratch folder left
    assert check_dest(dest, deep=True) == []


def test_a_later_build_links_to_files_that_exist_and_matches_a_clean_build(tmp_path):
    image_dir, dest = image(tmp_path, "symlink", versions=4)
    vacuum(image_dir, remove="v1..v2")
    _add_last_version(image_dir)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, storage="symlink"))
    assert check_dest(dest, deep=True) == []
    clean = tmp_path / "clean"
    shutil.copytree(image_dir, clean, ignore=shutil.ignore_patterns("dest"))
    build_pyramid(clean, options=BuildOptions(jobs=1, storage="symlink"))
    assert tree_bytes(dest / "dzi" / "v4") == tree_bytes(clean / "dest" / "dzi" / "v4")


def _add_last_version(image_dir: Path) -> None:
    from dzbuild.pyramid.spec import load_spec
    from dzbuild.pyramid.tiling import write_tiles
    from dzbuild.testing import synthetic_image

    spec = load_spec(image_dir)
    write_tiles(image_dir / "v4", synthetic_image(300, 200, seed=44), spec, [base(spec, *CHANGES[3][0])])


def test_keep_names_what_stays_and_the_latest_always_does(tmp_path):
    image_dir, dest = image(tmp_path)
    report = vacuum(image_dir, keep="v0,v2")
    assert report.removed == [1, 3] and sorted(contents(dest)) == ["v0", "v2", "v4"]
    assert check_dest(dest, deep=True) == []
    again = vacuum(image_dir, keep="v0")  # v2 goes now; v1 and v3 are already gone
    assert again.removed == [2] and sorted(contents(dest)) == ["v0", "v4"]
    assert check_dest(dest, deep=True) == []
    assert vacuum(image_dir, remove="v1..v3").removed == []  # nothing left to do


@pytest.mark.parametrize(
    ("remove", "keep", "words"),
    [
        ("v4", None, "v4 is the latest version"),
        ("v1..v9", None, "published versions are v0..v4"),
        ("v3..v1", None, "published versions are v0..v4"),
        ("one", None, "'one' is not a version or range"),
        (None, None, "say which versions"),
    ],
)
def test_bad_selections_are_refused(tmp_path, remove, keep, words):
    image_dir, dest = image(tmp_path, versions=5)
    before = contents(dest)
    with pytest.raises(ConfigError, match=words):
        vacuum(image_dir, remove=remove, keep=keep)
    assert contents(dest) == before


def test_nothing_published_or_overlap_is_refused(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 64, overlap=1)
    with pytest.raises(ConfigError, match="no published version"):
        vacuum(image_dir, remove="v0")
    (image_dir / "v1").mkdir()
    shutil.copy(image_dir / "v0" / "0_0.jpg", image_dir / "v1" / "0_0.jpg")
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    with pytest.raises(ConfigError, match="overlap"):
        vacuum(image_dir, remove="v0")


def test_a_refused_vacuum_of_an_overlap_image_changes_nothing_and_later_builds_work(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 64, overlap=1)
    (image_dir / "v1").mkdir()
    shutil.copy(image_dir / "v0" / "0_0.jpg", image_dir / "v1" / "0_0.jpg")
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    before = tree_bytes(image_dir / "dest")
    command = [sys.executable, "-m", "dzbuild", "vacuum", str(image_dir), "--remove", "v0"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 2 and "overlap" in done.stderr, done.stderr
    assert tree_bytes(image_dir / "dest") == before  # no journal left behind
    again = subprocess.run([sys.executable, "-m", "dzbuild", "pyramid", str(image_dir)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr


def test_a_tile_deleted_by_hand_is_refused_before_anything_changes(tmp_path):
    """Symbolic links: v4 links to v2's tile (1, 1) of level 8; with that file gone, v4 cannot take it over."""
    image_dir, dest = image(tmp_path, "symlink")
    (dest / "dzi" / "v2" / "dzi_files" / "8" / "1_1.jpg").unlink()
    before = tree_bytes(dest)
    with pytest.raises(BuildError, match="broken link") as error:
        vacuum(image_dir, remove="v1..v3")
    assert error.value.exit_code == 7 and "v4" in error.value.path
    assert tree_bytes(dest) == before and not (dest / ".dzbuild" / "vacuum.json").exists()
    build_pyramid(image_dir, options=BuildOptions(jobs=1, storage="symlink"))  # later builds are not blocked


@pytest.mark.parametrize(
    "journal",
    ['{"remove": [0, 1, 2, 3, 4]}', '{"remove": [0, 1, 2, 3], "versions": 9}', '{"remove": []}', "{}", "[]",
     '{"remove": "0123"}', '{"remove": [1, 1.5]}', "garbage", "[" * 5000],
)
def test_a_forged_or_damaged_journal_is_refused_not_obeyed(tmp_path, journal):
    image_dir, dest = image(tmp_path)
    before = contents(dest)
    (dest / ".dzbuild" / "vacuum.json").write_text(journal)
    build = lambda: build_pyramid(image_dir, options=BuildOptions(jobs=1))  # noqa: E731
    for call in (build, lambda: vacuum(image_dir, remove="v1")):
        with pytest.raises(BuildError, match="is not the journal of a vacuum of these 5 versions") as error:
            call()
        assert error.value.path.endswith("vacuum.json")
    assert contents(dest) == before


def test_dry_run_changes_nothing_and_tells_the_same(tmp_path):
    image_dir, dest = image(tmp_path, "symlink")
    before = {str(p): (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in dest.rglob("*")}
    planned = vacuum(image_dir, remove="v1..v3", dry_run=True)
    assert {str(p): (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in dest.rglob("*")} == before
    done = vacuum(image_dir, remove="v1..v3")
    assert (planned.entries_removed, planned.files_freed, planned.bytes_freed) == (
        done.entries_removed,
        done.files_freed,
        done.bytes_freed,
    )


def test_the_command_line_reports_what_it_freed(tmp_path):
    image_dir, dest = image(tmp_path, versions=3)
    done = subprocess.run(
        [sys.executable, "-m", "dzbuild", "vacuum", str(image_dir), "--remove", "v1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["removed"] == [1] and summary["files_freed"] > 0 and summary["bytes_freed"] > 0
    bad = subprocess.run(
        [sys.executable, "-m", "dzbuild", "vacuum", str(image_dir), "--remove", "v2"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "latest version" in bad.stderr


# -- Crash safety ------------------------------------------------------------------------------------


def test_a_killed_vacuum_leaves_kept_versions_whole_and_finishes_later(tmp_path):
    """Kill points over a vacuum with symbolic links, where files move (into v3) and links are re-pointed (v4)."""
    source, dest = image(tmp_path / "source", "symlink")
    before = contents(dest)
    kept = {name: before[name] for name in ("v0", "v3", "v4")}
    args = ["vacuum", "IMAGE", "--remove", "v1..v2"]
    probe = tmp_path / "probe"
    shutil.copytree(source, probe, symlinks=True)
    ops = operations(tmp_path, [str(probe) if a == "IMAGE" else a for a in args])
    assert {"link", "symlink", "replace", "rename", "open"} <= {op.name for op in ops}
    cleanup = [op.number for op in ops if op.name in ("unlink", "rmdir")]
    points = [op.number for op in ops if op.name in ("open", "link", "symlink", "rename", "replace")]
    points += cleanup[len(cleanup) // 3 :: len(cleanup) // 3][:2]
    killed = 0
    for index, number in enumerate(sorted(points)):
        copy = tmp_path / f"case{index}"
        shutil.copytree(source, copy, symlinks=True)
        argv = [str(copy) if a == "IMAGE" else a for a in args]
        assert run(tmp_path, argv, kill_at=number).returncode == -9
        now = contents(copy / "dest")
        for name, files_now in now.items():  # every visible version is whole: kept ones, and ones not yet removed
            assert files_now == before[name], (number, name)
        assert set(kept) <= set(now)
        started = (copy / "dest" / ".dzbuild" / "vacuum.json").exists()  # its journal was committed
        finish = ["pyramid", str(copy)] if index % 2 else argv  # a build finishes a started vacuum too
        assert run(tmp_path, finish).returncode == 0
        assert contents(copy / "dest") == (kept if started or finish is argv else before), number
        assert check_dest(copy / "dest", deep=True) == [], number
        assert not (copy / "dest" / ".dzbuild" / "vacuum.json").exists()
        killed += 1
    from documented import stated_number

    assert killed == stated_number("maintenance.md", r"kills it at (\d+) points")  # each killed, then recovered


# -- In a site ------------------------------------------------------------------------------------


def test_a_vacuumed_version_of_a_site_image_redirects_to_the_latest(tmp_path):
    from hostrules import follow_redirect, parse_redirects_file
    from sites import make_site

    from dzbuild.site.build import build_site

    site = make_site(tmp_path, images=("a",))
    shutil.copytree(site / "a" / "v0", site / "a" / "v1")
    (site / "a" / "v1" / "0_0.jpg").write_bytes((site / "a" / "v0" / "1_0.jpg").read_bytes())
    for name in [p.name for p in (site / "a" / "v1").iterdir() if p.name != "0_0.jpg"]:
        (site / "a" / "v1" / name).unlink()
    build_site(site, progress="quiet")
    cache = site / ".dzbuild" / "tree" / "a"
    vacuum(site / "a", dest=cache, remove="v0")
    assert check_dest(cache, deep=True) == []
    build_site(site, progress="quiet")
    assert not (site / "_site" / "a" / "dzi" / "v0").exists()
    rules = parse_redirects_file((site / "_site" / "_redirects").read_text())
    assert follow_redirect(rules, "/a/dzi/v0/dzi.xml") == ("/a/dzi/v1/dzi.xml", 302)
    assert follow_redirect(rules, "/a/dzi/v0/dzi_files/8/0_0.jpg") == ("/a/dzi/v1/dzi_files/8/0_0.jpg", 302)
    assert follow_redirect(rules, "/a/dzi/v1/dzi.xml") is None
