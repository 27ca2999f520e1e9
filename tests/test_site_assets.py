"""OpenSeadragon's copy into the output: whole or not at all, and a failure in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sites import fake_openseadragon, make_site

from dzbuild.io.files import PARTIAL_MARK
from dzbuild.testing import unavailable

BUILD = 7


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (CI runs as root and can mount one); elsewhere the test is skipped, in CI it fails."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def big_openseadragon(root: Path, images: int = 200) -> Path:
    """A stand-in OpenSeadragon of about 1.6 MB: more than the small disk holds."""
    folder = fake_openseadragon(root)
    for number in range(images):
        (folder / "images" / f"button{number:03}.png").write_bytes(os.urandom(8000))
    return folder


def site_on(disk: Path, openseadragon: Path) -> Path:
    return make_site(disk, images=("harbour",), config=f'[viewer]\nopenseadragon_dir = "{openseadragon.as_posix()}"\n')


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def test_a_full_disk_while_copying_openseadragon_is_one_line_and_leaves_nothing_half_made(tmp_path, small_disk):
    openseadragon = big_openseadragon(tmp_path / "npm")
    site = site_on(small_disk, openseadragon)
    failed = dzbuild("build", str(site), "--jobs", "1")
    assert failed.returncode == BUILD, failed.stderr
    lines = failed.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 400, failed.stderr  # not a list of every file
    copy = site / "_site" / "_dzbuild" / "openseadragon" / "0.0.0-test"
    assert lines[0].startswith(f"dzbuild: error: {copy}/images/button")  # the file being written
    assert "could not copy OpenSeadragon into the output: No space left on device" in lines[0]
    assert not copy.exists()
    assert [p for p in site.rglob("*") if PARTIAL_MARK in p.name] == []
    for extra in sorted((openseadragon / "images").glob("button*"))[50:]:  # a viewer the disk has room for
        extra.unlink()
    rebuilt = dzbuild("build", str(site), "--jobs", "1")
    assert rebuilt.returncode == 0, rebuilt.stderr
    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(openseadragon).as_posix() for p in openseadragon.rglob("*") if p.is_file())


def test_the_copy_holds_the_minified_script_images_and_licence_only(tmp_path):
    openseadragon = fake_openseadragon(tmp_path / "npm")
    (openseadragon / "openseadragon.js").write_text("/* unminified */")
    (openseadragon / "openseadragon.min.js.map").write_text("{}")
    (openseadragon.parents[1] / "LICENSE.txt").write_text("BSD-3")
    site = site_on(tmp_path, openseadragon)
    assert dzbuild("build", str(site), "--jobs", "1").returncode == 0
    copy = site / "_site" / "_dzbuild" / "openseadragon" / "0.0.0-test"
    files = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert files == {
        "openseadragon.min.js": b"/* stand-in */\n",
        "images/home_rest.png": b"png",
        "LICENSE.txt": b"BSD-3",
    }
