"""Bad inputs: each is a DzbuildError naming the file, a non-zero exit, and an unchanged ``dest/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from imagedirs import add_version, base, make_image_dir, snapshot, version_dir

import dzbuild.pyramid.immutability
import dzbuild.pyramid.sources
from dzbuild.errors import DzbuildError, PublishedError, SourceError
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.sources import file_identity


def build(image_dir: Path, **options):
    return build_pyramid(image_dir, options=BuildOptions(**{"jobs": 1, **options}))


def write_image(path: Path, width: int, height: int, ext: str = ".jpg", channels: int = 3, dtype=np.uint8) -> None:
    pixels = np.full((height, width, channels), 100, dtype)
    ok, buf = cv2.imencode(ext, pixels)
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.tobytes())


def replace_file(path: Path, data: bytes) -> None:
    """Save the way most editors do: a new file renamed over the old one (a new inode)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def refused(image_dir: Path, kind: type[DzbuildError], culprit: Path, words: str, **options) -> None:
    """Build, expect ``kind`` naming ``culprit`` with ``words``, and find ``dest/`` as it was."""
    dest = image_dir / "dest"
    before = snapshot(dest)
    with pytest.raises(kind) as caught:
        build(image_dir, **options)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{culprit}: "), message
    assert words in message, message
    assert caught.value.exit_code != 0
    after = snapshot(dest)
    if before:
        assert after == before
    else:  # the lock made dest/ (and a format folder may exist), but no file or version appeared
        assert set(after.values()) <= {"folder"} and not version_dir(dest, 0).exists()
    assert not [p for p in dest.rglob("*partial*")], "a temporary folder was left behind"


@pytest.fixture
def published(tmp_path):
    """750x500 in 250 px tiles with v0 published."""
    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    build(image_dir)
    return image_dir, spec


# -- Bad tiles in a new version -------------------------------------------------------------------


def test_wrong_pixel_size(published):
    image_dir, _ = published
    write_image(image_dir / "v1" / "1_0.jpg", 200, 250)
    refused(image_dir, SourceError, image_dir / "v1" / "1_0.jpg", "is 200x250 pixels but the grid expects 250x250")


def test_transposed_edge_tile_gets_a_hint(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    build(image_dir)
    write_image(image_dir / "v1" / "4_0.jpg", 64, 1)  # the grid's edge column is 1 pixel wide
    refused(image_dir, SourceError, image_dir / "v1" / "4_0.jpg", "expects 1x64 (row and column swapped?)")


def test_tile_outside_the_grid(published):
    image_dir, _ = published
    write_image(image_dir / "v1" / "0_2.jpg", 250, 250)
    refused(image_dir, SourceError, image_dir / "v1" / "0_2.jpg", "outside the 3x2 grid")


def test_truncated_jpeg(published):
    image_dir, _ = published
    data = (image_dir / "v0" / "0_0.jpg").read_bytes()
    (image_dir / "v1").mkdir()
    (image_dir / "v1" / "0_0.jpg").write_bytes(data[: len(data) // 2])
    refused(image_dir, SourceError, image_dir / "v1" / "0_0.jpg", "truncated JPEG")


def test_garbage_named_jpg(published):
    image_dir, _ = published
    (image_dir / "v1").mkdir()
    (image_dir / "v1" / "0_0.jpg").write_bytes(os.urandom(5000))
    refused(image_dir, SourceError, image_dir / "v1" / "0_0.jpg", "not a JPEG, PNG or WebP file")


def test_png_named_jpg(published):
    image_dir, _ = published
    write_image(image_dir / "v1" / "0_0.jpg", 250, 250, ext=".png")
    refused(image_dir, SourceError, image_dir / "v1" / "0_0.jpg", "is a PNG file named .jpg")


@pytest.mark.parametrize(
    ("channels", "dtype", "words"), [(4, np.uint8, "has an alpha channel"), (3, np.uint16, "is 16-bit")]
)
def test_png_tiles_must_be_8_bit_without_alpha(tmp_path, channels, dtype, words):
    image_dir, _, _ = make_image_dir(tmp_path, 100, 60, 50, fmt="png")
    build(image_dir)
    write_image(image_dir / "v1" / "1_1.png", 50, 10, ext=".png", channels=channels, dtype=dtype)
    refused(image_dir, SourceError, image_dir / "v1" / "1_1.png", words)


# -- Bad first versions: nothing becomes visible --------------------------------------------------


def test_missing_v0_tile(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    (image_dir / "v0" / "1_1.jpg").unlink()
    refused(image_dir, SourceError, image_dir / "v0", "1 of 6 tiles are missing, the first is 1_1.jpg")
    assert not version_dir(image_dir / "dest", 0).exists()


def test_wrong_size_in_v0_publishes_nothing(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    write_image(image_dir / "v0" / "2_1.jpg", 250, 249)
    refused(image_dir, SourceError, image_dir / "v0" / "2_1.jpg", "is 250x249 pixels")
    assert not version_dir(image_dir / "dest", 0).exists()
    assert not (image_dir / "dest" / ".dzbuild" / "v0.json").exists()


def test_the_only_tile_of_a_one_pixel_image_is_checked(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 1, 1, 1)
    write_image(image_dir / "v0" / "0_0.jpg", 2, 2)  # no parent ever reads it, yet it must be 1x1
    refused(image_dir, SourceError, image_dir / "v0" / "0_0.jpg", "is 2x2 pixels but the grid expects 1x1")


# -- Changes to what is published -----------------------------------------------------------------


def test_editing_a_published_tile_is_refused(published):
    image_dir, _ = published
    replace_file(image_dir / "v0" / "1_1.jpg", (image_dir / "v0" / "0_0.jpg").read_bytes())
    refused(image_dir, PublishedError, image_dir / "v0" / "1_1.jpg", "put the change in a new version v1/")


def test_editing_in_place_with_copy_storage_leaves_dest_alone(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    build(image_dir, storage="copy")
    (image_dir / "v0" / "1_1.jpg").write_bytes((image_dir / "v0" / "0_0.jpg").read_bytes())
    refused(image_dir, PublishedError, image_dir / "v0" / "1_1.jpg", "was modified in v0", storage="copy")


def test_a_fresh_clone_of_published_sources_is_not_an_edit(published, monkeypatch):
    """New modification times with the same bytes (git clone, restored cache) pass, checked by CRC-32."""
    image_dir, _ = published
    dest = image_dir / "dest"
    for tile in (image_dir / "v0").iterdir():
        os.utime(tile, ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(dest / "dzi")
    trust_at_once(monkeypatch)
    assert build(image_dir).versions == []
    assert snapshot(dest / "dzi") == before
    assert identities(image_dir) == {tile.name: file_identity(tile.stat()) for tile in (image_dir / "v0").iterdir()}
    monkeypatch.setattr(dzbuild.pyramid.sources, "_same_bytes", lambda *a: pytest.fail("a trusted file was read"))
    assert build(image_dir).versions == []  # the second time nothing is read again


def trust_at_once(monkeypatch) -> None:
    """No racy window: a file written a moment ago may be trusted (no test waits two seconds)."""
    monkeypatch.setattr(dzbuild.pyramid.sources, "RACY_NS", 0)


def identities(image_dir: Path) -> dict:
    cache = json.loads((image_dir / "dest" / ".dzbuild" / "source-cache.json").read_text())
    return cache["files"]["v0"]


def test_a_rerun_reads_the_new_files_once_then_trusts_them(tmp_path, monkeypatch):
    """Publishing may link a source file (a new ctime): the first rerun reads it, later ones only stat it."""
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    trust_at_once(monkeypatch)
    build(image_dir)
    assert not (image_dir / "dest" / ".dzbuild" / "source-cache.json").exists()
    assert build(image_dir).versions == []
    assert identities(image_dir) == {tile.name: file_identity(tile.stat()) for tile in (image_dir / "v0").iterdir()}
    monkeypatch.setattr(dzbuild.pyramid.immutability, "changed_files", lambda *a: pytest.fail("trusted files read"))
    assert build(image_dir).versions == []


def test_a_damaged_sources_record_is_named(published):
    from dzbuild.errors import BuildError

    image_dir, _ = published
    (image_dir / "dest" / ".dzbuild" / "v0.sources.json").write_text("{not json")
    refused(image_dir, BuildError, image_dir / "dest" / ".dzbuild" / "v0.sources.json", "is missing or damaged")


def test_files_changed_moments_ago_are_not_trusted(published):
    image_dir, _ = published
    assert build(image_dir).versions == []  # v0 was written just now: the same clock tick may hide an edit
    cache = image_dir / "dest" / ".dzbuild" / "source-cache.json"
    assert not cache.exists() or identities(image_dir) == {}


@pytest.mark.parametrize("change", ["add", "remove", "replace"])
def test_trusted_files_that_change_are_checked_again(published, change, monkeypatch):
    image_dir, _ = published
    trust_at_once(monkeypatch)
    build(image_dir)
    tile = image_dir / "v0" / "1_1.jpg"
    if change == "add":
        extra = image_dir / "v0" / "3_0.jpg"
        extra.write_bytes(tile.read_bytes())
        refused(image_dir, PublishedError, extra, "was added to v0")
    elif change == "remove":
        tile.unlink()
        refused(image_dir, PublishedError, tile, "was removed from v0")
    else:
        replace_file(tile, (image_dir / "v0" / "0_0.jpg").read_bytes())
        refused(image_dir, PublishedError, tile, "was modified in v0")


@pytest.mark.parametrize("trusted", [True, False])
def test_an_in_place_edit_keeping_size_and_mtime_is_refused(published, monkeypatch, trusted):
    """Rewriting a tile in place and setting its mtime back still moves its ctime: the build reads it."""
    from dzbuild.maintain.check import check_report

    image_dir, _ = published
    if trusted:  # the identity was recorded as trusted; else the file is compared because it is racy
        trust_at_once(monkeypatch)
    build(image_dir, storage="copy", rebuild=True)
    build(image_dir, storage="copy")  # reads v0 once, and records its identities unless racy
    tile, other = image_dir / "v0" / "1_1.jpg", image_dir / "v0" / "0_0.jpg"
    before = tile.stat()
    with open(tile, "r+b") as handle:  # same inode, same size, other bytes
        handle.write(other.read_bytes()[: before.st_size].ljust(before.st_size, b"\0"))
    os.utime(tile, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = tile.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    refused(image_dir, PublishedError, tile, "was modified in v0", storage="copy")
    problems = {p.path: p.message for p in check_report(image_dir / "dest").problems}
    assert problems[str(tile)] == "was modified after v0 was published (put changes in a new version)"


def test_an_in_place_edit_exits_4_naming_the_tile(published):
    image_dir, _ = published
    tile = image_dir / "v0" / "1_1.jpg"
    before = tile.stat()
    with open(tile, "r+b") as handle:
        handle.write(bytes(b ^ 0xFF for b in tile.read_bytes()[:64]))
    os.utime(tile, ns=(before.st_atime_ns, before.st_mtime_ns))
    done = subprocess.run([sys.executable, "-m", "dzbuild", "pyramid", str(image_dir)], capture_output=True, text=True)
    assert done.returncode == 4, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"{tile}: was modified in v0, which is published" in line


def test_same_size_other_bytes_is_an_edit(published):
    image_dir, _ = published
    tile = image_dir / "v0" / "2_1.jpg"
    data = bytearray(tile.read_bytes())
    data[len(data) // 2] ^= 0xFF
    replace_file(tile, bytes(data))
    refused(image_dir, PublishedError, tile, "was modified in v0")


def test_removing_a_published_tile_is_refused(published):
    image_dir, _ = published
    (image_dir / "v0" / "2_0.jpg").unlink()
    refused(image_dir, PublishedError, image_dir / "v0" / "2_0.jpg", "was removed from v0, which is published")


def test_width_change_after_publish(published):
    image_dir, spec = published
    (image_dir / "pyramid.json").write_text(json.dumps({**spec.to_dict(), "width": 800}))
    refused(image_dir, PublishedError, image_dir / "pyramid.json", "'width' changed from 750 to 800 after v0")


def test_resampler_change_after_publish(published):
    image_dir, _ = published
    add_version(image_dir, published[1], 1, [base(published[1], 0, 0)], seed=1)
    refused(image_dir, PublishedError, image_dir, "use the 'dct' resampler, not 'area'", resampler="area")


def test_deleting_a_published_version_folder_is_refused(published):
    image_dir, spec = published
    add_version(image_dir, spec, 1, [base(spec, 0, 0)], seed=1)
    build(image_dir)
    for path in (image_dir / "v1").iterdir():
        path.unlink()
    (image_dir / "v1").rmdir()
    refused(image_dir, PublishedError, image_dir, "v1 was published but its source folder is gone")


def test_earlier_good_versions_are_published_before_a_bad_one(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    write_image(image_dir / "v1" / "2_1.jpg", 250, 250, ext=".png")
    with pytest.raises(SourceError, match="is a PNG file named .jpg"):
        build(image_dir)
    assert (version_dir(image_dir / "dest", 0) / "dzi.xml").is_file()
    assert not version_dir(image_dir / "dest", 1).exists()
    assert not (image_dir / "dest" / ".dzbuild" / "v1.json").exists()


def test_version_gap(published):
    image_dir, spec = published
    add_version(image_dir, spec, 2, [base(spec, 0, 0)], seed=2)
    refused(image_dir, SourceError, image_dir, "v1/ is missing but v2/ exists")


# -- The same through the real command line --------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("spoil", ["wrong_size", "png_named_jpg", "edit_published", "gap"])
def test_cli_prints_one_line_and_exits_non_zero(published, spoil):
    image_dir, spec = published
    culprit, code = image_dir / "v1" / "0_0.jpg", 3
    if spoil == "wrong_size":
        write_image(culprit, 250, 100)
    elif spoil == "png_named_jpg":
        write_image(culprit, 250, 250, ext=".png")
    elif spoil == "edit_published":
        culprit, code = image_dir / "v0" / "0_0.jpg", 4
        replace_file(culprit, (image_dir / "v0" / "1_0.jpg").read_bytes())
    else:
        culprit = image_dir
        add_version(image_dir, spec, 2, [base(spec, 0, 0)], seed=2)
    before = snapshot(image_dir / "dest")
    result = run_cli("pyramid", str(image_dir))  # every core: the error crosses a process boundary
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(f"dzbuild: error: {culprit}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert snapshot(image_dir / "dest") == before
