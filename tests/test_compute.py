"""Work units as a worker receives them: small whatever the image, and linking the subtrees they own."""

from __future__ import annotations

import pickle
import re
import shutil

from imagedirs import add_version, base, make_image_dir, tree_bytes

from dzbuild import link
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.run.inline import InlineBatch, InlineExecutor


class PicklingExecutor(InlineExecutor):
    """Two jobs' worth of units, run here after a round trip through pickle, as a worker gets them.

    Records each unit's pickled size, and whether a unit is running (``in_unit``). It checks paths,
    as an executor whose workers run on other machines does.
    """

    jobs = 2

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.in_unit = False

    def check_paths(self, read: list, write: list) -> None:
        """Every folder is seen: the workers are this process."""

    def start(self, fn, items, workers=None) -> InlineBatch:
        sent = [pickle.dumps(item, pickle.HIGHEST_PROTOCOL) for item in items]
        self.sizes += [len(data) for data in sent]

        def receive(data: bytes):
            self.in_unit = True
            try:
                return fn(pickle.loads(data))
            finally:
                self.in_unit = False

        return InlineBatch(receive, sent)


def test_a_units_pickled_size_does_not_grow_with_the_image(tmp_path):
    sizes = {}
    for side in (128, 1024):  # 85 and 5,461 tiles of 16 pixels
        image_dir, _, _ = make_image_dir(tmp_path, side, side, 16)
        executor = PicklingExecutor()
        build_pyramid(image_dir, tmp_path / f"dest{side}", BuildOptions(jobs=2), executor=executor)
        build_pyramid(image_dir, tmp_path / f"one{side}", BuildOptions(jobs=1))
        assert tree_bytes(tmp_path / f"dest{side}" / "dzi") == tree_bytes(tmp_path / f"one{side}" / "dzi")
        assert len(executor.sizes) > 16  # subtree units and the top
        sizes[side] = max(executor.sizes)
    # The owners table alone is 2 bytes a tile pickled: 10 KB more at 1024^2 when units carried it.
    assert sizes[1024] - sizes[128] < 160, sizes  # the grid's sizes of three more levels, longer names
    assert sizes[1024] < 2048, sizes


def base_tiles_linked(calls: list[tuple[bool, str]], in_unit: bool, max_level: int) -> set[tuple[int, int]]:
    found = set()
    for inside, path in calls:
        match = re.search(rf"/dzi_files/{max_level}/(\d+)_(\d+)\.jpg$", path)
        if match and inside == in_unit:
            found.add((int(match[1]), int(match[2])))
    return found


def test_units_link_the_base_tiles_below_their_roots_and_the_build_only_the_rest(tmp_path, monkeypatch):
    image_dir, spec, pixels = make_image_dir(tmp_path, 256, 256, 16)  # 16 x 16 base tiles at level 8
    add_version(image_dir, spec, 1, [base(spec, col, row) for row in range(4) for col in range(16)], seed=3)
    executor = PicklingExecutor()
    calls: list[tuple[bool, str]] = []
    batch_link = link.LinkBatch.link

    def recorded(self, target: str, path: str) -> None:
        calls.append((executor.in_unit, path))
        batch_link(self, target, path)

    monkeypatch.setattr(link.LinkBatch, "link", recorded)
    shutil.move(image_dir / "v1", tmp_path / "v1")
    build_pyramid(image_dir, tmp_path / "dest", BuildOptions(jobs=2), executor=executor)
    every = {(col, row) for row in range(16) for col in range(16)}
    assert base_tiles_linked(calls, True, 8) == every  # v0: every subtree is a unit's
    assert base_tiles_linked(calls, False, 8) == set()
    calls.clear()
    shutil.move(tmp_path / "v1", image_dir / "v1")
    build_pyramid(image_dir, tmp_path / "dest", BuildOptions(jobs=2), executor=executor)
    # v1 computes level 7's rows 0-1: 16 subtrees of 2 x 2 base tiles, one unit each
    changed = {(col, row) for row in range(4) for col in range(16)}
    assert base_tiles_linked(calls, True, 8) == changed
    assert base_tiles_linked(calls, False, 8) == every - changed
    assert len({path for _, path in calls}) == len(calls)  # no tile is linked twice
    calls.clear()
    local = InlineExecutor()  # workers on this machine: this process links, on a core of its own
    build_pyramid(image_dir, tmp_path / "local", BuildOptions(jobs=1), executor=local)
    assert base_tiles_linked(calls, False, 8) == every and base_tiles_linked(calls, True, 8) == set()
    monkeypatch.undo()
    build_pyramid(image_dir, tmp_path / "one", BuildOptions(jobs=1))
    assert tree_bytes(tmp_path / "dest" / "dzi") == tree_bytes(tmp_path / "one" / "dzi")
