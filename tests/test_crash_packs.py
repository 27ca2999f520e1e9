"""SIGKILL a build that packs versions (PMTiles) while it writes, renames and commits them.

After every kill no archive or index is visible that a committed record does not cover, and a
rerun finishes with packs byte-identical to an uninterrupted build. Packs are written into the
version's hidden temporary folder and renamed into place with it, like every other format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes
from killswitch import operations, run

from dzbuild.maintain.check import check_dest
from dzbuild.testing import plugin_registered

KILLED = -9
ARGS = ["pyramid", "IMAGE", "--jobs", "1", "--format", "pmtiles"]


@pytest.fixture(scope="module")
def packs():
    """The repository's PMTiles plugin, registered in this process (forked runs inherit it)."""
    with plugin_registered(pytest.importorskip("dzbuild_pmtiles"), "test-pmtiles"):
        yield


@pytest.fixture(scope="module")
def image(tmp_path_factory, packs):
    """Three versions of a 700x500 image in 64-pixel tiles (blocks above the low levels), and a clean build."""
    root = tmp_path_factory.mktemp("crash-packs")
    image_dir, spec, pixels = make_image_dir(root, 700, 500, 64)
    pixels = add_version(image_dir, spec, 1, [base(spec, 0, 0), base(spec, 9, 6)], seed=5, pixels=pixels)
    add_version(image_dir, spec, 2, [base(spec, 4, 3)], seed=6, pixels=pixels)
    clean = root / "clean"
    shutil.copytree(image_dir, clean)
    assert run(root, argv(clean)).returncode == 0
    return root, image_dir, clean / "dest"


def argv(image_dir: Path) -> list[str]:
    return [str(image_dir) if a == "IMAGE" else a for a in ARGS]


def kill_points(image) -> list[int]:
    """Operations spread over packing: archives written, each index, the rename of each pack folder."""
    root, image_dir, _ = image
    probe = shutil.copytree(image_dir, root / "probe")
    ops = operations(root, argv(probe), where="parent")
    archives = [op.number for op in ops if op.name == "open" and op.path.endswith(".pmtiles")]
    indexes = [op.number for op in ops if op.name == "open" and op.path.endswith("index.json")]
    renames = [op.number for op in ops if op.name == "rename" and "/pmtiles/" in op.path]
    assert archives and len(indexes) == 3 and len(renames) == 3
    return sorted({archives[0], archives[len(archives) // 2], archives[-1], *indexes, *renames})


def test_kill_while_packing_leaves_no_partial_pack_and_the_rerun_finishes(image):
    root, image_dir, clean = image
    for number in kill_points(image):
        copy = shutil.copytree(image_dir, root / f"kill-{number}")
        assert run(root, argv(copy), kill_at=number, where="parent").returncode == KILLED, number
        packs = copy / "dest" / "pmtiles"
        visible = [p for p in packs.iterdir() if not p.name.startswith(".")] if packs.is_dir() else []
        for folder in visible:  # renamed into place: whole, and as the clean build made it
            assert tree_bytes(folder) == tree_bytes(clean / "pmtiles" / folder.name), (number, folder.name)
        assert run(root, argv(copy)).returncode == 0, number
        assert tree_bytes(packs) == tree_bytes(clean / "pmtiles"), number
        assert check_dest(copy / "dest", deep=True) == [], number
