"""Building collections: pixels at their Morton cells, incremental == from scratch, holes, atomicity."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from imagedirs import add_version, base, make_image_dir, snapshot, stitch, tree_bytes

from dzbuild.collection import build_collection
from dzbuild.collection import tiles as tiles_module
from dzbuild.collection.dzc import read_dzc
from dzbuild.collection.layout import MortonLayout
from dzbuild.errors import ConfigError, PublishedError, SourceError
from dzbuild.grid import Grid, morton_to_xy
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import load_spec

LAYOUT = MortonLayout(256, 8)
# (width, height, member tile size): tiny and odd sizes, and tiles smaller than a level-8 cell (stitched)
SHAPES = [(300, 200, 256), (64, 90, 32), (700, 500, 128), (100, 100, 256), (257, 31, 64), (90, 250, 64)]


def make_members(root: Path, shapes=SHAPES, seed: int = 0) -> list[tuple[str, Path]]:
    members = []
    for i, (w, h, t) in enumerate(shapes):
        image_dir, _, _ = make_image_dir(root / "images", w, h, t, seed=seed + i)
        build_pyramid(image_dir, options=BuildOptions(jobs=1))
        members.append((image_dir.name, image_dir / "dest"))
    return members


def psnr(a, b) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def collection_tile(out_dir: Path, version: int, name: str, level: int, col: int, row: int):
    return cv2.imread(str(out_dir / f"v{version}" / f"{name}_files" / str(level) / f"{col}_{row}.jpg"))


def cell_pixels(out_dir: Path, version: int, name: str, n: int, level: int, size: tuple[int, int]):
    """Decode the tile holding item ``n`` at ``level`` and cut out its cell's top-left ``size``."""
    tile = LAYOUT.tile_of(n, level)
    pixels = collection_tile(out_dir, version, name, level, tile.col, tile.row)
    assert pixels.shape == (256, 256, 3), "collection tiles are always whole"
    x, y = LAYOUT.offset_in_tile(n, level)
    cell = 1 << level
    return pixels[y : y + size[1], x : x + size[0]], pixels[y : y + cell, x : x + cell]


def member_level(dest: Path, version: int, level: int):
    """The member's own level ``min(level, its max)``, stitched from its published DZI."""
    spec = load_spec(dest.parent)
    grid = Grid(spec.width, spec.height, spec.tile_size)
    return stitch(dest, version, grid, min(level, grid.max_level))


def test_every_item_is_at_its_morton_cell_at_every_level(tmp_path: Path):
    members = make_members(tmp_path)
    out = tmp_path / "coll"
    report = build_collection(out, "gallery", members, quality=100, executor=None, jobs=1)
    dzc = read_dzc(report.latest_descriptor)
    assert report.latest_descriptor == out / "v0" / "gallery.dzc"
    assert [(i.id, i.n, i.width, i.height) for i in dzc.items] == [(n, n, w, h) for n, (w, h, _) in enumerate(SHAPES)]
    for item, (_, dest) in zip(dzc.items, members, strict=True):
        assert (out / "v0" / item.source).resolve() == (dest / "dzi" / "v0" / "dzi.xml").resolve()
        for level in LAYOUT.levels:
            own = member_level(dest, 0, level)
            found, cell = cell_pixels(out, 0, "gallery", item.n, level, (own.shape[1], own.shape[0]))
            assert psnr(found, own) > 42, f"item {item.n} level {level}"  # a 1 px shift scores < 36
            rest = cell.copy()
            rest[: own.shape[0], : own.shape[1]] = 0
            assert rest.max() < 40, "the rest of the cell is background"


def test_default_quality_is_close_where_cells_are_big_enough(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:2])
    out = tmp_path / "coll"
    build_collection(out, "g", members, jobs=1)
    for n, (_, dest) in enumerate(members):
        for level in range(4, 9):
            own = member_level(dest, 0, level)
            found, _ = cell_pixels(out, 0, "g", n, level, (own.shape[1], own.shape[0]))
            assert psnr(found, own) > 27, f"item {n} level {level}"


def test_incremental_builds_are_byte_identical_to_a_from_scratch_build(tmp_path: Path):
    members = make_members(tmp_path)
    first, extra = members[:5], members[5]
    inc = tmp_path / "inc"
    v0 = build_collection(inc, "g", first, jobs=1)
    assert v0.versions[0].linked == 0 and v0.versions[0].computed == 5 + 2 + 7  # one a level from 6 up
    # an image joins: only the tiles holding its cell are computed, at most one per level
    v1 = build_collection(inc, "g", first + [extra], jobs=1).versions[0]
    assert v1.computed <= LAYOUT.max_level + 1 and v1.added == 1
    # a member gains a version that changes one base tile: only its cells' tiles, at most one per level
    image_dir = members[2][1].parent
    spec = load_spec(image_dir)
    add_version(image_dir, spec, 1, [base(spec, 0, 0)], seed=99)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    v2 = build_collection(inc, "g", first + [extra], jobs=1).versions[0]
    assert 1 <= v2.computed <= LAYOUT.max_level + 1 and v2.changed == 1
    assert read_dzc(inc / "v2" / "g.dzc").items[2].source.endswith("/dzi/v1/dzi.xml")
    # the same final collection from scratch, beside it so relative Source URLs match too
    scratch = tmp_path / "scratch"
    build_collection(scratch, "g", first + [extra], jobs=2)
    assert tree_bytes(inc / "v2") == tree_bytes(scratch / "v0")
    assert _computed_files(inc, 2) == v2.computed


def _computed_files(out: Path, version: int) -> int:
    """Files of a version that are its own (hard links made by later versions do not count here)."""
    own = {p.stat().st_ino for p in (out / f"v{version}").rglob("*.jpg")}
    earlier = {p.stat().st_ino for k in range(version) for p in (out / f"v{k}").rglob("*.jpg")}
    return len(own - earlier)


def test_unchanged_tiles_link_to_the_physical_file(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:3])
    out = tmp_path / "coll"
    build_collection(out, "g", members[:2], storage="symlink", jobs=1)
    build_collection(out, "g", members, storage="symlink", jobs=1)
    report = build_collection(out, "g", members[:1] + members[2:], storage="symlink", jobs=1)
    links = [p for p in (out / "v2").rglob("*.jpg") if p.is_symlink()]
    assert links and len(links) == report.versions[0].linked
    for link in links:
        target = Path(os.path.normpath(link.parent / os.readlink(link)))
        assert target.is_file() and not target.is_symlink(), f"{link} is a link to a link"
        assert not os.readlink(link).startswith("/"), "relative, so the folder can move"


def test_removed_items_leave_background_holes(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:4])
    out = tmp_path / "coll"
    build_collection(out, "g", members, jobs=1)
    report = build_collection(out, "g", [members[0], members[2], members[3]], jobs=1)
    v1 = report.versions[0]
    assert v1.removed == 1 and v1.computed == LAYOUT.max_level  # levels 0..7; item 1's own level-8 tile is gone
    col, row = morton_to_xy(1)
    assert not (out / "v1" / "g_files" / "8" / f"{col}_{row}.jpg").exists()
    for level in range(8):
        _, cell = cell_pixels(out, 1, "g", 1, level, (1, 1))
        assert cell.max() < 40, f"item 1's cell is background at level {level}"
    dzc = read_dzc(out / "v1" / "g.dzc")
    assert [i.id for i in dzc.items] == [0, 2, 3] and dzc.next_id == 4
    # the item returns: it takes its old cell back, and new items never take holes
    back = build_collection(out, "g", members, jobs=1)
    assert [i.id for i in read_dzc(back.latest_descriptor).items] == [0, 1, 2, 3]


def test_a_rerun_with_nothing_new_is_a_no_op(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:2])
    out = tmp_path / "coll"
    build_collection(out, "g", members, jobs=1)
    before = snapshot(out)
    report = build_collection(out, "g", members, jobs=1)
    assert report.versions == [] and report.latest_descriptor == out / "v0" / "g.dzc"
    assert snapshot(out) == before
    assert report.summary()["versions_built"] == [] and report.summary()["items"] == 2


def test_a_crash_publishes_nothing_and_the_next_run_recovers(tmp_path: Path, monkeypatch):
    members = make_members(tmp_path, SHAPES[:3])
    out = tmp_path / "coll"
    build_collection(out, "g", members[:2], jobs=1)
    before = snapshot(out)

    def broken(pixels, quality):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tiles_module, "encode_jpeg", broken)
    with pytest.raises(OSError):
        build_collection(out, "g", members, jobs=1)
    assert snapshot(out) == before, "no partial folder, no pending record"
    monkeypatch.undo()
    assert build_collection(out, "g", members, jobs=1).versions[0].version == 1


def test_published_settings_never_change(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:1])
    out = tmp_path / "coll"
    build_collection(out, "g", members, jobs=1)
    with pytest.raises(PublishedError, match="'quality' changed from 85 to 90"):
        build_collection(out, "g", members, quality=90, jobs=1)


def test_user_mistakes_are_one_line_errors(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:1])
    unbuilt, _, _ = make_image_dir(tmp_path / "raw", 40, 40, 256)
    out = tmp_path / "coll"
    with pytest.raises(SourceError, match="'raw' has no published version"):
        build_collection(out, "g", members + [("raw", unbuilt / "dest")], jobs=1)
    with pytest.raises(ConfigError, match="listed twice"):
        build_collection(out, "g", members + members, jobs=1)
    with pytest.raises(ConfigError, match="tile_size 128 is smaller than 2\\^max_level"):
        build_collection(out, "g", members, tile_size=128, jobs=1)
    with pytest.raises(ConfigError, match="name must be"):
        build_collection(out, "../g", members, jobs=1)
    with pytest.raises(ConfigError, match="no members"):
        build_collection(out, "g", [], jobs=1)


def test_crowded_tiles_start_from_their_kept_canvas(tmp_path: Path, monkeypatch):
    """Levels 0..5 keep their pixels: adding item 6 decodes its own images there, not its neighbours'."""
    members = make_members(tmp_path, SHAPES + [(80, 60, 64)])
    out, scratch = tmp_path / "coll", tmp_path / "scratch"
    build_collection(out, "g", members[:6], jobs=1)
    decoded = []
    real = tiles_module.load_item_image
    monkeypatch.setattr(tiles_module, "load_item_image", lambda image: decoded.append(image) or real(image))
    build_collection(out, "g", members, jobs=1)
    # levels 0..5: item 6 only; level 6: a 16-cell tile with items 0..6; level 7: items 4..6; level 8: item 6
    assert len(decoded) == 6 + 7 + 3 + 1
    kept = sorted(p.relative_to(out / ".dzbuild" / "canvas").as_posix() for p in (out / ".dzbuild").rglob("*.png"))
    assert kept == [f"{level}/0.v1.png" for level in range(6)], "superseded canvases are pruned"
    monkeypatch.undo()
    build_collection(scratch, "g", members, jobs=1)
    assert tree_bytes(out / "v1") == tree_bytes(scratch / "v0")


def test_a_lost_canvas_only_costs_a_full_composition(tmp_path: Path):
    members = make_members(tmp_path, SHAPES[:3])
    out, scratch = tmp_path / "coll", tmp_path / "scratch"
    build_collection(out, "g", members[:2], jobs=1)
    (out / ".dzbuild" / "canvas" / "3" / "0.v0.png").unlink()
    (out / ".dzbuild" / "canvas" / "4" / "0.v0.png").write_bytes(b"not a png")
    build_collection(out, "g", members, jobs=1)
    build_collection(scratch, "g", members, jobs=1)
    assert tree_bytes(out / "v1") == tree_bytes(scratch / "v0")
