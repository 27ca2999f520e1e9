"""The compare overlay's lists: ``IMAGE/changes/v{n}.json`` says which base tiles each version replaced."""

from __future__ import annotations

import json
import shutil

from sites import make_site

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.state import State
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.build import build_site
from dzbuild.site.changes import changed_tiles
from dzbuild.testing import synthetic_image


def add_version(site, rel: str, number: int, tiles: list[tuple[int, int]], seed: int) -> None:
    spec = load_spec(site / rel)
    top = spec.grid.max_level
    picture = synthetic_image(spec.width, spec.height, seed=seed)
    write_tiles(site / rel / f"v{number}", picture, spec, [Tile(top, col, row) for col, row in tiles])


def read(site, rel: str, number: int) -> dict:
    return json.loads((site / "_site" / rel / "changes" / f"v{number}.json").read_text())


def test_each_version_lists_the_tiles_it_and_earlier_versions_replaced(tmp_path):
    site = make_site(tmp_path, images=("a",))  # 300 x 200 in 128 px tiles: 3 x 2 base tiles
    add_version(site, "a", 1, [(0, 0), (2, 1)], seed=50)
    add_version(site, "a", 2, [(2, 1), (1, 0)], seed=51)
    build_site(site, progress="quiet")
    assert not (site / "_site" / "a" / "changes" / "v0.json").exists()  # v0 replaced nothing
    one, two = read(site, "a", 1), read(site, "a", 2)
    assert one == {"version": 1, "width": 300, "height": 200, "tile_size": 128, "level": 9,
                   "tiles": [[0, 0, 1], [2, 1, 1]]}  # fmt: skip
    assert two["tiles"] == [[0, 0, 1], [1, 0, 2], [2, 1, 2]]  # row-major; (2, 1) was last changed by v2
    state = State(site / ".dzbuild" / "tree" / "a")
    grid = load_spec(site / "a").grid
    for number, listed in ((1, one), (2, two)):  # the record's owners, read independently
        base = state.record(number)["owners"][grid.max_level]
        owners = [owner for at in range(0, len(base), 2) for owner in [base[at]] * base[at + 1]]
        expected = [[i % 3, i // 3, owner] for i, owner in enumerate(owners) if owner > 0]
        assert listed["tiles"] == expected == changed_tiles(state.record(number), grid)


def test_lists_are_kept_rebuilt_when_missing_and_follow_removed_versions(tmp_path):
    site = make_site(tmp_path, images=("a",))
    add_version(site, "a", 1, [(1, 1)], seed=50)
    build_site(site, progress="quiet")
    listed = site / "_site" / "a" / "changes" / "v1.json"
    stamp = listed.stat().st_mtime_ns
    assert build_site(site, progress="quiet").files_written == 0 and listed.stat().st_mtime_ns == stamp
    shutil.rmtree(site / "_site")
    build_site(site, progress="quiet")
    assert read(site, "a", 1)["tiles"] == [[1, 1, 1]]
    assert '"changes": "changes/v1.json"' in (site / "_site" / "a" / "index.html").read_text()
    shutil.rmtree(site / ".dzbuild" / "tree" / "a" / "dzi" / "v1")  # what `dzbuild vacuum` does to a version
    build_site(site, progress="quiet")
    assert not listed.exists()
    assert '"changes": "changes/v1.json"' not in (site / "_site" / "a" / "index.html").read_text()
