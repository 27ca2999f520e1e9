"""Version folders and tile names: gaps, names, grid bounds and completeness, from names alone."""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path

import pytest

from dzbuild.errors import SourceError
from dzbuild.grid import Grid, Tile
from dzbuild.pyramid.sources import RACY_NS, all_trusted, changed_files, file_identity, scan_version, version_dirs

GRID = Grid(750, 500, 250)  # 3 columns x 2 rows at level 10


def make_tree(root: Path, files: dict[str, bytes | None]) -> Path:
    """Create files (bytes) and folders (None) from a dict of relative paths."""
    for rel, data in files.items():
        path = root / rel
        if data is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def full_v0(ext: str = "jpg") -> dict[str, bytes]:
    return {f"v0/{t.col}_{t.row}.{ext}": b"x" for t in GRID.tiles(GRID.max_level)}


def refused(call, *args) -> str:
    with pytest.raises(SourceError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message and caught.value.exit_code == 3
    return message


# -- version_dirs -----------------------------------------------------------------------------


def test_versions_are_sorted_by_number_not_by_name(tmp_path):
    make_tree(tmp_path, {f"v{n}": None for n in range(12)})
    assert [p.name for p in version_dirs(tmp_path)] == [f"v{n}" for n in range(12)]


def test_other_names_are_ignored(tmp_path):
    make_tree(tmp_path, {"v0": None, "v1": None, "v01": None, "va": None, "dest": None, "v2": b"a file"})
    assert [p.name for p in version_dirs(tmp_path)] == ["v0", "v1"]


def test_a_gap_names_the_missing_version(tmp_path):
    make_tree(tmp_path, {"v0": None, "v1": None, "v3": None})
    message = refused(version_dirs, tmp_path)
    assert message.startswith(f"{tmp_path}: ") and "v2/ is missing but v3/ exists" in message


def test_missing_v0_is_named(tmp_path):
    make_tree(tmp_path, {"v1": None})
    assert "v0/ is missing but v1/ exists" in refused(version_dirs, tmp_path)


def test_no_versions_at_all(tmp_path):
    assert "no v0/ folder" in refused(version_dirs, tmp_path)


def test_missing_image_folder(tmp_path):
    assert "cannot list the image folder" in refused(version_dirs, tmp_path / "nowhere")


# -- scan_version ------------------------------------------------------------------------------


def test_scan_reads_tile_names_column_first(tmp_path):
    make_tree(tmp_path, {**full_v0(), "v0/.DS_Store": b"", "v1/2_1.jpg": b"abc", "v1/0_0.jpg": b"d"})
    v0 = scan_version(tmp_path / "v0", 0, GRID, "jpg")
    assert set(v0.tiles) == set(GRID.tiles(10)) and len(v0.tiles) == GRID.tile_count(10)
    v1 = scan_version(tmp_path / "v1", 1, GRID, "jpg")
    assert v1.tiles == {Tile(10, 2, 1), Tile(10, 0, 0)}
    prints = dict(v1.fingerprint.items())
    assert sorted(prints) == ["0_0.jpg", "2_1.jpg"] and prints["2_1.jpg"][0] == 3 and prints["0_0.jpg"][0] == 1
    assert json.loads("".join(v1.fingerprint.json_chunks(per_chunk=1))) == prints
    assert v1.number == 1 and v1.path == tmp_path / "v1"


@pytest.mark.parametrize("name", ["0-0.jpg", "00_1.jpg", "a_b.jpg", "0_0", "0_0_0.jpg", "readme.txt", "-1_0.jpg"])
def test_names_that_are_not_tiles(tmp_path, name):
    make_tree(tmp_path, {f"v1/{name}": b"x"})
    message = refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")
    assert message.startswith(f"{tmp_path / 'v1' / name}: not a tile name")


@pytest.mark.parametrize("name", ["0_0.png", "0_0.JPG", "0_0.jpeg"])
def test_wrong_extension_names_the_expected_format(tmp_path, name):
    make_tree(tmp_path, {f"v1/{name}": b"x"})
    message = refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")
    assert name in message and "tile format is jpg" in message


def test_tile_outside_the_grid_hints_at_a_swap(tmp_path):
    make_tree(tmp_path, {"v1/0_2.jpg": b"x"})  # column 0, row 2: only 2 rows, but 3 columns
    message = refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")
    assert message.startswith(str(tmp_path / "v1" / "0_2.jpg"))
    assert "outside the 3x2 grid" in message and "row and column swapped?" in message


def test_tile_far_outside_the_grid_gets_no_swap_hint(tmp_path):
    make_tree(tmp_path, {"v1/5_0.jpg": b"x"})
    message = refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")
    assert "outside the 3x2 grid" in message and "swapped" not in message


def test_incomplete_v0_names_the_first_missing_tile(tmp_path):
    files = full_v0()
    del files["v0/1_1.jpg"], files["v0/2_1.jpg"]
    make_tree(tmp_path, files)
    message = refused(scan_version, tmp_path / "v0", 0, GRID, "jpg")
    assert message.startswith(f"{tmp_path / 'v0'}: ")
    assert "2 of 6 tiles are missing, the first is 1_1.jpg" in message


def test_empty_later_version_is_refused(tmp_path):
    make_tree(tmp_path, {"v1": None})
    assert "holds no tiles" in refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")


def test_a_folder_named_like_a_tile_is_refused(tmp_path):
    make_tree(tmp_path, {"v1/0_0.jpg": None})
    assert "is not a regular file" in refused(scan_version, tmp_path / "v1", 1, GRID, "jpg")


def test_links_must_stay_inside_the_image_folder(tmp_path):
    image = make_tree(tmp_path / "image", {**full_v0(), "v1": None})
    outside = make_tree(tmp_path, {"elsewhere/tile.jpg": b"x"}) / "elsewhere" / "tile.jpg"
    os.symlink("../v0/0_0.jpg", image / "v1" / "0_0.jpg")
    assert scan_version(image / "v1", 1, GRID, "jpg").tiles == {Tile(10, 0, 0)}
    os.symlink(outside, image / "v1" / "1_0.jpg")
    assert "outside the image folder" in refused(scan_version, image / "v1", 1, GRID, "jpg")


# -- changed_files ------------------------------------------------------------------------------


def recorded(folder: Path) -> dict:
    """The fingerprint a build records for ``folder``, CRC-32 included."""
    scanned = scan_version(folder, 1, GRID, "jpg")
    cols = GRID.tile_counts(GRID.max_level).width
    pairs = []
    for index in scanned.fingerprint.indices:  # as the workers report them: tile index, CRC-32
        pairs += [index, zlib.crc32((folder / f"{index % cols}_{index // cols}.jpg").read_bytes())]
    scanned.fingerprint.set_crcs(pairs)
    return dict(scanned.fingerprint.items())


def test_changed_files_ignores_hidden_files_and_sees_every_kind_of_change(tmp_path):
    make_tree(tmp_path, {"v0/0_0.jpg": b"abc", "v0/1_0.jpg": b"de", "v0/2_0.jpg": b"f", "v0/.hidden": b""})
    folder = tmp_path / "v0"
    prints = recorded(folder)
    assert sorted(prints) == ["0_0.jpg", "1_0.jpg", "2_0.jpg"] and prints["0_0.jpg"][:1] == [3]
    assert changed_files(folder, prints) == []
    (folder / ".hidden").write_bytes(b"changed")  # not a tile: never compared
    (folder / "0_0.jpg").write_bytes(b"xyz")  # same size, new bytes
    (folder / "1_0.jpg").unlink()
    (folder / "3_0.jpg").write_bytes(b"new")
    assert changed_files(folder, prints) == ["0_0.jpg", "1_0.jpg", "3_0.jpg"]


def test_a_new_mtime_with_the_same_bytes_is_checked_once_by_crc(tmp_path):
    make_tree(tmp_path, {"v0/0_0.jpg": b"abc"})
    folder = tmp_path / "v0"
    prints = recorded(folder)
    os.utime(folder / "0_0.jpg", ns=(10**9, 10**9))  # a fresh clone: new time, same bytes
    known: dict = {}
    assert changed_files(folder, prints, known, time.time_ns() + RACY_NS) == []
    assert known == {"0_0.jpg": file_identity((folder / "0_0.jpg").stat())}  # remembered: not hashed again
    assert all_trusted(folder, known)


def test_an_in_place_edit_restoring_size_and_mtime_is_a_change(tmp_path):
    make_tree(tmp_path, {"v0/0_0.jpg": b"abc", "v0/1_0.jpg": b"de"})
    folder = tmp_path / "v0"
    prints, known = recorded(folder), {}
    assert changed_files(folder, prints, known, time.time_ns() + RACY_NS) == []
    before = (folder / "0_0.jpg").stat()
    with open(folder / "0_0.jpg", "r+b") as handle:  # the same inode, size and (restored) mtime
        handle.write(b"xyz")
    os.utime(folder / "0_0.jpg", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not all_trusted(folder, known)  # the ctime moved
    assert changed_files(folder, prints, known, time.time_ns() + RACY_NS) == ["0_0.jpg"]


def test_a_file_changed_within_the_racy_window_is_not_trusted(tmp_path):
    make_tree(tmp_path, {"v0/0_0.jpg": b"abc"})
    folder = tmp_path / "v0"
    known: dict = {}
    assert changed_files(folder, recorded(folder), known, time.time_ns()) == []
    assert known == {}  # checked now, but the same clock tick could still hide an edit
