"""Packs built by dzbuild: every tile of every version equals Deep Zoom's, once on disk, in few files."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dzbuild_pmtiles.grouping import one_tile_level
from packs import add_version, dzi_tile, pack_tiles, stored_tiles

from dzbuild.grid import Grid, Tile, ancestors_of
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.formats import resolve_formats, with_tile_store
from dzbuild.testing import make_image_folder, unavailable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PATCHES = {1: [(3, 1)], 2: [(0, 0), (11, 7), (6, 4)], 3: [(3, 1), (3, 2)]}


def copy_sources(image: Path, folder: Path, leave_out: str = "") -> Path:
    """The image's sources (not its output) in a new folder."""
    return shutil.copytree(image, folder, ignore=lambda where, names: {"dest", leave_out} & set(names))


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def history(tmp_path):
    """A 3000x2000 image (12x8 tiles) with three patches, built with both formats one version at a time."""
    image = make_image_folder(tmp_path / "photo", 3000, 2000, 256, seed=3)
    build_pyramid(image, options=BuildOptions(jobs=1, formats=("dzi", "pmtiles")))
    for number, tiles in PATCHES.items():
        add_version(image, number, tiles, seed=number)
        build_pyramid(image, options=BuildOptions(jobs=1, formats=("dzi", "pmtiles")))
    return image


def test_every_tile_of_every_version_is_the_deep_zoom_tile(history):
    grid = Grid(3000, 2000, 256)
    for number in range(len(PATCHES) + 1):
        found = pack_tiles(history / "dest" / "pmtiles" / f"v{number}")
        expected = [t for level in range(one_tile_level(grid), grid.max_level + 1) for t in grid.tiles(level)]
        assert sorted(found) == sorted(expected)
        for tile, data in found.items():
            assert data == dzi_tile(history / "dest" / "dzi" / f"v{number}", tile), (number, tile)


def test_the_npm_reader_reads_every_tile_of_every_version_as_deep_zoom_publishes_it(history):
    node, module = shutil.which("node"), REPO / "node_modules" / "pmtiles" / "dist" / "esm" / "index.js"
    if node is None or not module.is_file():
        unavailable("node and npm's pmtiles (npm ci) are needed to read packs as a browser does")
    for number in range(len(PATCHES) + 1):
        folder = history / "dest" / "pmtiles" / f"v{number}"
        result = subprocess.run([node, str(HERE / "read_pack.mjs"), str(module), str(folder)],
                                capture_output=True, text=True, timeout=120, check=True)
        read = json.loads(result.stdout)
        found = pack_tiles(folder)
        expected = {f"{t.level}/{t.col}/{t.row}": hashlib.sha256(data).hexdigest() for t, data in found.items()}
        assert read == expected
        for key, digest in read.items():
            tile = Tile(*map(int, key.split("/")))
            assert digest == hashlib.sha256(dzi_tile(history / "dest" / "dzi" / f"v{number}", tile)).hexdigest()


def test_no_tile_is_stored_twice_and_each_version_holds_only_what_it_computed(history):
    grid = Grid(3000, 2000, 256)
    first = one_tile_level(grid)
    held = {n: sorted(t for t, _ in stored_tiles(history / "dest" / "pmtiles" / f"v{n}")) for n in range(4)}
    assert held[0] == sorted(t for level in range(first, grid.max_level + 1) for t in grid.tiles(level))
    for number, changed in PATCHES.items():
        base = {Tile(grid.max_level, col, row) for col, row in changed}
        expected = {t for t in base | set(ancestors_of(grid, base)) if t.level >= first}
        assert held[number] == sorted(expected)  # the changed tiles and their ancestors, each once
    assert len(stored_tiles(history / "dest" / "pmtiles")) == sum(len(tiles) for tiles in held.values())


def test_files_and_bytes_on_the_host(history):
    dzi, packs = history / "dest" / "dzi", history / "dest" / "pmtiles"
    v0_dzi, v0_pack = files(dzi / "v0"), files(packs / "v0")
    assert len(v0_pack) * 3 <= len(v0_dzi), (len(v0_pack), len(v0_dzi))
    for number, tiles in PATCHES.items():
        assert len(files(packs / f"v{number}")) <= 2 + 2 * len(tiles)
    tile_bytes = sum(len(data) for _, data in stored_tiles(packs))
    host_bytes = sum(p.stat().st_size for p in files(packs))
    assert host_bytes <= 1.03 * tile_bytes, (host_bytes, tile_bytes)


def test_incremental_builds_give_the_bytes_of_one_build_of_every_version(history, tmp_path):
    again = copy_sources(history, tmp_path / "again")
    build_pyramid(again, options=BuildOptions(jobs=2, formats=("pmtiles",)))
    first, second = history / "dest" / "pmtiles", again / "dest" / "pmtiles"
    assert [p.relative_to(first) for p in files(first)] == [p.relative_to(second) for p in files(second)]
    assert all(p.read_bytes() == (second / p.relative_to(first)).read_bytes() for p in files(first))


def test_packs_named_alone_are_published_alone_and_built_on_deep_zoom_as_their_tile_store(tmp_path):
    assert resolve_formats(["pmtiles"]) == ("pmtiles",)  # what a site publishes
    assert with_tile_store(resolve_formats(["pmtiles"])) == ("dzi", "pmtiles")  # what a build makes
    assert resolve_formats(["pmtiles", "dzi"]) == ("dzi", "pmtiles")
    image = make_image_folder(tmp_path / "photo", 600, 400, 256)
    build_pyramid(image, options=BuildOptions(jobs=1, formats=("pmtiles",)))
    assert sorted(p.name for p in (image / "dest").iterdir()) == [".dzbuild", ".dzbuild.lock", "dzi", "pmtiles"]


def test_a_format_added_later_packs_the_published_versions_as_building_it_from_the_start_would(history, tmp_path):
    later = copy_sources(history, tmp_path / "later", leave_out="v3")
    build_pyramid(later, options=BuildOptions(jobs=1))  # v0..v2 in Deep Zoom only
    shutil.copytree(history / "v3", later / "v3")
    report = build_pyramid(later, options=BuildOptions(jobs=1, formats=("dzi", "pmtiles")))
    assert report.backfilled == ["pmtiles/v0", "pmtiles/v1", "pmtiles/v2"]
    first, second = history / "dest" / "pmtiles", later / "dest" / "pmtiles"
    assert [p.relative_to(first) for p in files(first)] == [p.relative_to(second) for p in files(second)]
    assert all(p.read_bytes() == (second / p.relative_to(first)).read_bytes() for p in files(first))


def test_a_damaged_index_is_reported_in_one_line_and_publishes_nothing(history):
    (history / "dest" / "pmtiles" / "v3" / "index.json").write_bytes(b"{}")
    add_version(history, 4, [(1, 1)], seed=4)
    result = subprocess.run([sys.executable, "-m", "dzbuild", "pyramid", str(history), "--format", "pmtiles"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 7, result.stderr
    assert result.stderr.count("\n") == 1 and "pmtiles/v3/index.json is damaged" in result.stderr
    assert not (history / "dest" / "pmtiles" / "v4").exists() and not (history / "dest" / "dzi" / "v4").exists()


def test_check_packs_again_and_reports_a_changed_archive_a_missing_one_and_an_extra_file(history):
    from dzbuild.maintain.check import check_dest

    dest = history / "dest"
    assert check_dest(dest, deep=True) == []
    changed, missing = dest / "pmtiles/v0/low.pmtiles", dest / "pmtiles/v2/chain-0-0.pmtiles"
    changed.write_bytes(changed.read_bytes()[:-1] + b"\0")
    missing.unlink()
    (dest / "pmtiles/v1/stray.txt").write_text("x")
    found = {(Path(p.path).relative_to(dest).as_posix(), p.message) for p in check_dest(dest)}
    assert found == {
        ("pmtiles/v0/low.pmtiles", "differs from what packing the version's tiles gives"),
        ("pmtiles/v2/chain-0-0.pmtiles", "is missing from the pack"),
        ("pmtiles/v1/stray.txt", "unexpected: no tile or descriptor of this version"),
    }


def test_vacuum_refuses_an_image_with_packs_in_one_line_and_changes_nothing(history):
    from dzbuild.maintain.check import check_dest

    before = sorted((p.relative_to(history).as_posix(), p.stat().st_size) for p in files(history / "dest"))
    result = subprocess.run([sys.executable, "-m", "dzbuild", "vacuum", str(history), "--remove", "v1"],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "cannot vacuum an image published as packs (pmtiles)" in result.stderr
    assert sorted((p.relative_to(history).as_posix(), p.stat().st_size) for p in files(history / "dest")) == before
    assert check_dest(history / "dest") == []


def test_with_overlap_every_tile_is_the_published_deep_zoom_tile(tmp_path):
    image = make_image_folder(tmp_path / "overlap", 700, 500, 64, overlap=2, seed=7)
    build_pyramid(image, options=BuildOptions(jobs=1, formats=("pmtiles",)))
    add_version(image, 1, [(4, 3)], seed=8)
    build_pyramid(image, options=BuildOptions(jobs=1, formats=("pmtiles",)))
    grid = Grid(700, 500, 64)
    for number in (0, 1):
        found = pack_tiles(image / "dest" / "pmtiles" / f"v{number}")
        assert len(found) == sum(grid.tile_count(level) for level in range(one_tile_level(grid), grid.max_level + 1))
        assert all(data == dzi_tile(image / "dest" / "dzi" / f"v{number}", tile) for tile, data in found.items())
    patch = [t for t, _ in stored_tiles(image / "dest" / "pmtiles" / "v1")]
    assert Tile(grid.max_level, 3, 3) in patch  # a neighbour re-cut for its overlap lives in v1's archives
