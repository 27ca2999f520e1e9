"""``dzbuild check``: silent on every clean build, and each kind of damage found and named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from imagedirs import add_version, base, make_image_dir, tile_file, version_dir

from dzbuild.grid import Tile
from dzbuild.io import codec
from dzbuild.maintain.check import check_dest, check_report, find_dests
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import synthetic_image


def built(tmp_path: Path, storage: str = "hardlink", versions: int = 3):
    """A 300x200 image, tile 64, with ``versions`` versions built; returns (image folder, dest, spec)."""
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    for number in range(1, versions):
        pixels = add_version(image_dir, spec, number, [base(spec, number, 1)], seed=10 + number, pixels=pixels)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, storage=storage))
    return image_dir, image_dir / "dest", spec


def messages(problems) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("storage", ["hardlink", "symlink", "copy"])
def test_a_clean_build_has_no_problems_even_deep(tmp_path, storage):
    _, dest, _ = built(tmp_path, storage)
    assert check_dest(dest, deep=True) == []


def test_an_empty_folder_is_not_an_output(tmp_path):
    (tmp_path / "out").mkdir()
    problems = check_dest(tmp_path / "out")
    assert len(problems) == 1 and "no .dzbuild/ records" in problems[0].message


# -- One kind of damage per case: (what to do to a clean 3-version build, words the problem must contain)


def top(spec):
    return Tile(spec.grid.max_level - 1, 0, 0)  # computed by v1 (its base tile (1, 1) changed), linked by v2


def still(spec):
    return Tile(spec.grid.max_level - 1, 2, 1)  # computed by v0 only: a link in v1 and v2


def remove_tile(dest, spec):
    tile_file(dest, 2, top(spec)).unlink()


def add_stray_file(dest, spec):
    (version_dir(dest, 1) / "dzi_files" / "3" / "notes.txt").write_text("hi")


def leave_partial_folder(dest, spec):
    (dest / "dzi" / ".v3.partial-12345" / "dzi_files").mkdir(parents=True)


def leave_pending_record(dest, spec):
    (dest / ".dzbuild" / "v3.pending.json").write_text("{}")


def leave_unrecorded_version(dest, spec):
    shutil.copytree(version_dir(dest, 2), version_dir(dest, 3), symlinks=True)


def delete_a_record(dest, spec):
    (dest / ".dzbuild" / "v1.json").unlink()


def delete_a_version_folder(dest, spec):
    shutil.rmtree(version_dir(dest, 1))


def wrong_pixel_size(dest, spec):
    path = tile_file(dest, 1, top(spec))
    path.unlink()
    path.write_bytes(codec.encode(synthetic_image(10, 10), "jpg", 85))


def break_a_descriptor(dest, spec):
    (version_dir(dest, 0) / "dzi.xml").write_text("<Image")


def change_a_descriptor(dest, spec):
    path = version_dir(dest, 2) / "dzi.xml"
    text = path.read_text().replace('Width="300"', 'Width="301"')
    path.unlink()
    path.write_text(text)


def link_outside(dest, spec):
    outside = dest.parent.parent / "elsewhere.jpg"
    path = tile_file(dest, 2, still(spec))
    shutil.copyfile(path, outside)
    path.unlink()
    path.symlink_to(outside)


def link_to_a_link(dest, spec):
    first, second = tile_file(dest, 1, still(spec)), tile_file(dest, 2, still(spec))
    for path in (first, second):
        path.unlink()
    first.symlink_to(os.path.relpath(tile_file(dest, 0, still(spec)), first.parent))
    second.symlink_to(os.path.relpath(first, second.parent))


def broken_link(dest, spec):
    path = tile_file(dest, 2, still(spec))
    path.unlink()
    path.symlink_to("../../../v9/dzi_files/8/2_1.jpg")


def tamper_owners(dest, spec):
    path = dest / ".dzbuild" / "v2.json"
    record = json.loads(path.read_text())
    record["owners"][0][0] = 0
    path.write_text(json.dumps(record))


def edit_published_source(dest, spec):
    source = dest.parent / "v0" / "0_0.jpg"  # hard-linked into every version: editing it edits them
    source.write_bytes(codec.encode(synthetic_image(64, 64, seed=7), "jpg", 85))


def touch_published_source(dest, spec):
    os.utime(dest.parent / "v0" / "0_0.jpg", ns=(1, 1))  # a fresh clone: new times, same bytes


def unreadable_record(dest, spec):
    (dest / ".dzbuild" / "v2.json").write_text("{not json")


DAMAGE = [
    (remove_tile, "is missing"),
    (add_stray_file, "unexpected"),
    (leave_partial_folder, "interrupted build"),
    (leave_pending_record, "pending record"),
    (leave_unrecorded_version, "has no record"),
    (delete_a_record, "records must be consecutive"),
    (delete_a_version_folder, "its record says it is published"),
    (wrong_pixel_size, "is 10x10 pixels but the grid expects"),
    (break_a_descriptor, "descriptor does not parse"),
    (change_a_descriptor, "descriptor differs"),
    (link_outside, "outside"),
    (link_to_a_link, "itself a link"),
    (broken_link, "broken link"),
    (tamper_owners, "owners table differs"),
    (edit_published_source, "modified after v0 was published"),
    (unreadable_record, "cannot be read"),
]


@pytest.mark.parametrize(("damage", "words"), DAMAGE, ids=[d.__name__ for d, _ in DAMAGE])
def test_each_kind_of_damage_is_found_and_named(tmp_path, damage, words):
    _, dest, spec = built(tmp_path)
    damage(dest, spec)
    problems = check_dest(dest)
    assert any(words in p.message for p in problems), messages(problems)


def test_new_times_on_the_same_bytes_are_not_an_edit(tmp_path):
    _, dest, spec = built(tmp_path)
    touch_published_source(dest, spec)
    assert check_dest(dest) == []


def test_deep_finds_a_computed_tile_that_is_valid_but_wrong(tmp_path):
    _, dest, spec = built(tmp_path)
    path = tile_file(dest, 1, top(spec))
    size = spec.grid.tile_size_of(top(spec))
    path.write_bytes(codec.encode(synthetic_image(size.width, size.height, seed=99), "jpg", 85))  # in place
    assert check_dest(dest) == []  # right size, right codec, same inode in v2: only a recomputation can tell
    problems = check_dest(dest, deep=True)
    assert f"{path}: differs from its recomputation (dct, quality 85)" in map(str, problems), messages(problems)


def test_deep_names_a_corrupt_source_tile(tmp_path):
    image_dir, dest, spec = built(tmp_path, "copy", versions=1)
    path = tile_file(dest, 0, base(spec, 2, 1))
    data = path.read_bytes()
    scan = data.index(b"\xff\xda")
    path.write_bytes(data[: scan + (len(data) - scan) // 2] + b"\xff\xd9")  # libjpeg: only a warning
    problems = check_dest(dest, deep=True)
    assert any(p.path == str(path) and "corrupt" in p.message for p in problems), messages(problems)


# -- The command line ----------------------------------------------------------------------------


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def test_cli_exit_codes_text_and_json(tmp_path):
    image_dir, dest, spec = built(tmp_path, versions=2)
    ok = dzbuild("check", str(image_dir), "--deep")
    assert ok.returncode == 0 and "no problems (2 versions" in ok.stdout, ok.stderr
    assert dzbuild("check", str(dest)).returncode == 0
    tile_file(dest, 1, top(spec)).unlink()
    bad = dzbuild("check", str(tmp_path), "--json")  # a tree: every dest below it
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False and [c["dest"] for c in report["checked"]] == [str(dest)]
    assert [p["message"] for p in report["problems"]] == ["is missing"]
    assert dzbuild("check", str(tmp_path / "nope")).returncode == 2


def test_find_dests_walks_a_tree_but_not_into_versions(tmp_path):
    for name in ("a", "b/c"):
        (tmp_path / name / "out" / ".dzbuild").mkdir(parents=True)
    (tmp_path / "a" / "out" / "dzi" / "v0" / ".dzbuild").mkdir(parents=True)
    (tmp_path / "a" / "out" / "member" / ".dzbuild").mkdir(parents=True)  # a collection's member below it
    expected = [tmp_path / "a" / "out", tmp_path / "a" / "out" / "member", tmp_path / "b" / "c" / "out"]
    assert find_dests(tmp_path) == expected


# -- Other layouts: several formats, overlap -------------------------------------------------------


@pytest.fixture
def format_plugins():
    """The IIIF and Zoomify plugins of this repository, registered in-process for one test."""
    from dzbuild import plugins

    modules = [pytest.importorskip(name) for name in ("dzbuild_iiif", "dzbuild_zoomify")]
    manager = plugins.get_plugin_manager()
    for module in modules:
        manager.register(module, name=module.__name__)
    plugins.reset()
    yield
    for module in modules:
        manager.unregister(module)
    plugins.reset()


@pytest.mark.parametrize("storage", ["hardlink", "symlink"])
def test_several_formats_are_checked_link_by_link(tmp_path, format_plugins, storage):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    add_version(image_dir, spec, 1, [base(spec, 1, 1)], seed=3, pixels=pixels)
    formats = ("dzi", "iiif", "zoomify")
    options = BuildOptions(jobs=1, storage=storage, formats=formats, base_url="https://x.test/a")
    build_pyramid(image_dir, options=options)
    dest = image_dir / "dest"
    assert check_dest(dest, deep=True) == []
    tile = next((dest / "zoomify" / "v1").rglob("*.jpg"))
    tile.unlink()
    tile.write_bytes(codec.encode(synthetic_image(10, 10), "jpg", 85))
    assert any(p.path == str(tile) for p in check_dest(dest)), messages(check_dest(dest))


def test_an_overlap_build_is_checked_with_its_core(tmp_path):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64, overlap=1)
    add_version(image_dir, spec, 1, [base(spec, 1, 1)], seed=3, pixels=pixels)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    dest = image_dir / "dest"
    assert check_dest(dest, deep=True) == []
    core = next((dest / "core" / "v1").rglob("*.jpg"))
    core.unlink()
    assert f"{core}: is missing" in map(str, check_dest(dest))


def test_damaged_source_fingerprints_are_one_problem(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 100)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    (image_dir / "dest" / ".dzbuild" / "v0.sources.json").write_text("{not json")
    problems = check_report(image_dir / "dest").problems
    assert [(p.path, p.message.split(":")[0]) for p in problems] == [
        (str(image_dir / "dest" / ".dzbuild" / "v0.sources.json"), "is missing or damaged")
    ]


# -- A site folder: its cache holds the pyramids ---------------------------------------------------


def test_a_site_folder_is_checked_through_its_cache_and_is_the_default(tmp_path):
    from sites import make_site

    from dzbuild.site.build import build_site

    site = make_site(tmp_path, images=("a", "gallery/b"))
    build_site(site, jobs=1)
    cache_tree = site / ".dzbuild" / "tree"
    assert find_dests(site) == [cache_tree / "a", cache_tree / "gallery" / "b"]
    here = subprocess.run(
        [sys.executable, "-m", "dzbuild", "check"], cwd=site, capture_output=True, text=True, timeout=120
    )
    assert here.returncode == 0, here.stderr
    assert here.stderr == "" and here.stdout.splitlines() == [
        f"{Path('.dzbuild/tree/a')}: no problems (1 versions, 16 tiles)",
        f"{Path('.dzbuild/tree/gallery/b')}: no problems (1 versions, 16 tiles)",
    ]
    shutil.rmtree(cache_tree / "a" / "dzi" / "v0" / "dzi_files" / "0")
    broken = dzbuild("check", str(site))
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert f"{cache_tree / 'a' / 'dzi' / 'v0' / 'dzi_files' / '0'}" in broken.stdout


def test_a_state_folder_without_records_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "out" / ".dzbuild").mkdir(parents=True)
    problems = check_dest(tmp_path / "out")
    assert messages(problems) == f"{tmp_path / 'out' / '.dzbuild'}: holds no v0.json: nothing was published here"


def test_check_during_a_running_build_says_so_instead_of_reporting_its_temporary_folder(tmp_path):
    from killswitch import start_paused

    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    add_version(image_dir, spec, 1, [base(spec, 1, 1)], seed=4, pixels=pixels)
    pause = tmp_path / "paused"
    process = start_paused(tmp_path, ["pyramid", str(image_dir), "--jobs", "1"], 3, pause)  # v1's folder exists
    try:
        while not pause.exists():
            assert process.poll() is None, process.communicate()
        assert list((image_dir / "dest" / "dzi").glob(".v1.partial-*"))
        problems = check_dest(image_dir / "dest")
        assert [p.message for p in problems] == [
            f"a build is running (process {process.pid}); check again when it has finished"
        ]
    finally:
        (tmp_path / "paused.go").touch()
        process.communicate(timeout=60)
    assert process.returncode == 0 and check_dest(image_dir / "dest", deep=True) == []
