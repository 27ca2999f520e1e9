"""Whole builds of small synthetic images: descriptor, tile sizes, pixels, links, and incremental bytes."""

from __future__ import annotations

import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagedirs import add_version, base, make_image_dir, snapshot, stitch, tile_file, tree_bytes, version_dir

from dzbuild.grid import Grid, Tile
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import PyramidSpec
from dzbuild.pyramid.tiling import write_spec

INLINE = BuildOptions(jobs=1)
SIZES = [(750, 500, 250), (257, 255, 64), (1, 1, 1), (1000, 1, 7), (1, 1000, 256)]


def build(image_dir: Path, **options):
    return build_pyramid(image_dir, options=BuildOptions(**{"jobs": 1, **options}))


def test_dzi_xml_is_the_standard_descriptor(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    build(image_dir)
    root = ET.parse(version_dir(image_dir / "dest", 0) / "dzi.xml").getroot()
    ns = "{http://schemas.microsoft.com/deepzoom/2008}"
    assert root.tag == f"{ns}Image"
    assert root.attrib == {"TileSize": "250", "Overlap": "0", "Format": "jpg"}
    size = root.find(f"{ns}Size")
    assert size is not None and size.attrib == {"Width": "750", "Height": "500"}
    assert len(list(root)) == 1


@pytest.mark.parametrize(("width", "height", "tile_size"), SIZES)
def test_every_tile_of_every_level_exists_with_the_grid_size(tmp_path, width, height, tile_size):
    image_dir, spec, _ = make_image_dir(tmp_path, width, height, tile_size)
    report = build(image_dir)
    grid, dest = spec.grid, image_dir / "dest"
    files = version_dir(dest, 0) / "dzi_files"
    assert sorted(int(p.name) for p in files.iterdir()) == list(grid.levels)
    for level in grid.levels:
        expected = {f"{t.col}_{t.row}.jpg" for t in grid.tiles(level)}
        assert set(os.listdir(files / str(level))) == expected
        stitch(dest, 0, grid, level)  # decodes every tile and checks its pixel size
    assert report.computed == grid.total_tiles - grid.tile_count(grid.max_level)
    assert report.linked == grid.tile_count(grid.max_level)


# -- Pixels against an independent reference ------------------------------------------------------


def reference_pyramid(pixels, levels: int) -> list[np.ndarray]:
    """Exact 2x2 means in float from the whole image, an odd last row/column averaged with itself."""
    current = pixels.astype(np.float64)
    pyramid = [current]
    for _ in range(levels - 1):
        h, w = current.shape[:2]
        current = np.pad(current, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        current = current.reshape(current.shape[0] // 2, 2, current.shape[1] // 2, 2, 3).mean(axis=(1, 3))
        pyramid.append(current)
    return pyramid[::-1]  # index = level


def psnr(a, b) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - b) ** 2))
    return 100.0 if mse < 1e-10 else 10 * np.log10(255.0**2 / mse)


def luma(pixels) -> np.ndarray:
    return np.asarray(pixels, np.float64) @ np.array([0.114, 0.587, 0.299])  # BGR


# Thresholds, measured minimum in brackets. PNG tiles are lossless, so only per-level rounding
# separates them from the float reference: RGB PSNR >= 38 dB at every level (39.6). JPEG q85
# tiles: luma PSNR >= 30 dB at every level (33.0). Chroma is not compared for JPEG: 4:2:0
# subsampling alone costs ~21 dB RGB PSNR on the few-pixel top levels, even when the exact
# reference itself is encoded once.
@pytest.mark.parametrize("resampler", ["area", "dct"])
@pytest.mark.parametrize("fmt", ["png", "jpg"])
@pytest.mark.parametrize(("width", "height", "tile_size"), [(750, 500, 250), (257, 255, 64), (1000, 1, 7), (1, 1, 1)])
def test_every_level_matches_an_exact_area_average(tmp_path, width, height, tile_size, fmt, resampler):
    image_dir, spec, pixels = make_image_dir(tmp_path, width, height, tile_size, fmt=fmt)
    build(image_dir, resampler=resampler)
    grid = spec.grid
    reference = reference_pyramid(pixels, grid.max_level + 1)
    for level in grid.levels:
        built = stitch(image_dir / "dest", 0, grid, level, fmt)
        if fmt == "png":
            assert psnr(built, reference[level]) >= 38.0, f"level {level}"
        else:
            assert psnr(luma(built), luma(reference[level])) >= 30.0, f"level {level}"


# -- Links: every tile resolves to the one physical file that holds it -----------------------------


def three_versions(tmp_path: Path, storage: str):
    """750x500 in 250 px tiles; v1 changes the top-left tile, v2 the bottom-right one."""
    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    build(image_dir, storage=storage)
    add_version(image_dir, spec, 1, [base(spec, 0, 0)], seed=1)
    build(image_dir, storage=storage)
    add_version(image_dir, spec, 2, [base(spec, 2, 1)], seed=2)
    build(image_dir, storage=storage)
    changes = [set(spec.grid.tiles(10)), {base(spec, 0, 0)}, {base(spec, 2, 1)}]
    return image_dir, spec.grid, changes


def owner(grid: Grid, changes, version: int, tile: Tile) -> int:
    """The latest version up to ``version`` that changed this tile or one below it."""
    return max(n for n in range(version + 1) if any(t == tile or tile in grid.ancestors(t) for t in changes[n]))


def physical(image_dir: Path, grid: Grid, changes, version: int, tile: Tile) -> Path:
    k = owner(grid, changes, version, tile)
    if tile.level == grid.max_level:
        return image_dir / f"v{k}" / f"{tile.col}_{tile.row}.jpg"
    return tile_file(image_dir / "dest", k, tile)


def all_tiles(grid: Grid):
    return [t for level in grid.levels for t in grid.tiles(level)]


@pytest.mark.parametrize("storage", ["hardlink", "symlink", "copy"])
def test_every_tile_resolves_to_its_physical_file(tmp_path, storage):
    image_dir, grid, changes = three_versions(tmp_path, storage)
    dest = image_dir / "dest"
    for version in range(3):
        for tile in all_tiles(grid):
            path, target = tile_file(dest, version, tile), physical(image_dir, grid, changes, version, tile)
            if path == target:  # computed by this version: a new real file
                assert path.is_file() and not path.is_symlink()
                if version:
                    assert not os.path.samefile(path, tile_file(dest, version - 1, tile))
            elif storage == "hardlink":
                assert not path.is_symlink() and os.path.samefile(path, target)
            elif storage == "symlink":
                link = os.readlink(path)
                assert not os.path.isabs(link), f"{path} -> {link} is absolute"
                assert (path.parent / link).resolve() == target.resolve()
                assert not (path.parent / link).is_symlink(), f"{path} points at another link"
            else:
                assert not path.is_symlink() and path.read_bytes() == target.read_bytes()
                assert not os.path.samefile(path, target)
            assert not target.is_symlink()


@pytest.mark.parametrize("storage", ["hardlink", "symlink"])
def test_only_ancestors_of_changed_tiles_are_new_files(tmp_path, storage):
    image_dir, grid, changes = three_versions(tmp_path, storage)
    sources = list(image_dir.glob("v*/*.jpg"))
    for version in (1, 2):
        earlier = [p for n in range(version) for p in version_dir(image_dir / "dest", n).rglob("*.jpg")]
        known = {p.stat().st_ino for p in [*sources, *earlier] if not p.is_symlink()}
        files = [p for p in version_dir(image_dir / "dest", version).rglob("*.jpg") if not p.is_symlink()]
        new = {p for p in files if p.stat().st_ino not in known}
        ancestors = {a for t in changes[version] for a in grid.ancestors(t)}
        assert new == {tile_file(image_dir / "dest", version, t) for t in ancestors}


def test_symlinks_never_point_at_links(tmp_path):
    image_dir, _, _ = three_versions(tmp_path, "symlink")
    links = [p for p in (image_dir / "dest").rglob("*") if p.is_symlink()]
    assert links
    for link in links:
        target = link.parent / os.readlink(link)
        assert target.is_file() and not target.is_symlink(), f"{link} -> {os.readlink(link)}"


@pytest.mark.parametrize("storage", ["hardlink", "symlink", "copy"])
def test_a_symlinked_source_tile_is_published_as_its_real_file(tmp_path, storage):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    (image_dir / "v1").mkdir()
    os.symlink("../v0/1_0.jpg", image_dir / "v1" / "0_0.jpg")  # "v1 top-left looks like v0's neighbour"
    build(image_dir, storage=storage)
    published = tile_file(image_dir / "dest", 1, Tile(10, 0, 0))
    assert published.read_bytes() == (image_dir / "v0" / "1_0.jpg").read_bytes()
    if storage == "symlink":
        assert (published.parent / os.readlink(published)).resolve() == (image_dir / "v0" / "1_0.jpg").resolve()
        assert not (published.parent / os.readlink(published)).is_symlink()
    else:
        assert not published.is_symlink()


# -- Reruns, deletion and rebuilds ---------------------------------------------------------------


def test_rerun_is_a_no_op(tmp_path):
    image_dir, _, _ = three_versions(tmp_path, "hardlink")
    before = snapshot(image_dir / "dest")
    report = build(image_dir)
    assert report.versions == [] and report.published_before == 3
    assert snapshot(image_dir / "dest") == before  # same inodes, mtimes, sizes (the lock file aside)


@pytest.mark.parametrize("storage", ["hardlink", "symlink"])
def test_deleting_dest_and_rebuilding_gives_identical_bytes(tmp_path, storage):
    image_dir, _, _ = three_versions(tmp_path, storage)
    before = tree_bytes(image_dir / "dest" / "dzi")
    shutil.rmtree(image_dir / "dest")
    report = build(image_dir, storage=storage)
    assert [v.version for v in report.versions] == [0, 1, 2]
    assert tree_bytes(image_dir / "dest" / "dzi") == before


# -- The incremental invariant -------------------------------------------------------------------


@st.composite
def patch_histories(draw):
    """A tiny image, its overlap, tile format, resampler and storage, and the base tiles each version changes."""
    width, height = draw(st.integers(1, 90)), draw(st.integers(1, 90))
    tile = draw(st.integers(max(1, max(width, height) // 5), 48))
    overlap = draw(st.sampled_from([0, 0, 1, 2]))
    spec = PyramidSpec(width, height, tile, overlap=min(overlap, tile), format=draw(st.sampled_from(["jpg", "png"])))
    tiles = list(spec.grid.tiles(spec.grid.max_level))
    patches = draw(st.lists(st.sets(st.sampled_from(tiles), min_size=1), min_size=1, max_size=3))
    resampler = draw(st.sampled_from(["area", "dct"]))
    options = {"resampler": resampler, "storage": draw(st.sampled_from(["hardlink", "symlink", "copy"]))}
    return spec, patches, options


def final_tile_set(image_dir: Path, versions: int) -> dict[str, bytes]:
    """Each base tile's bytes as of the last version: what a one-version folder would hold."""
    final = {}
    for number in range(versions):
        for path in (image_dir / f"v{number}").iterdir():
            final[path.name] = path.read_bytes()
    return final


def level_bytes(dest: Path, version: int) -> dict[str, bytes]:
    return tree_bytes(version_dir(dest, version) / "dzi_files")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=patch_histories())
def test_incremental_builds_equal_a_from_scratch_build(history):
    spec, patches, options = history
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        image_dir, _, _ = make_image_dir(
            root, spec.width, spec.height, spec.tile_size, fmt=spec.format, overlap=spec.overlap
        )
        build(image_dir, **options)
        for number, patch in enumerate(patches, start=1):  # built version by version, as a site grows
            add_version(image_dir, spec, number, sorted(patch), seed=number)
            build(image_dir, **options)
        last = len(patches)
        incremental = {n: level_bytes(image_dir / "dest", n) for n in range(last + 1)}

        scratch = root / "scratch"
        write_spec(scratch, spec)
        (scratch / "v0").mkdir()
        for name, data in final_tile_set(image_dir, last + 1).items():
            (scratch / "v0" / name).write_bytes(data)
        build(scratch, **options)
        assert level_bytes(scratch / "dest", 0) == incremental[last]

        build(image_dir, rebuild=True, **options)
        assert {n: level_bytes(image_dir / "dest", n) for n in range(last + 1)} == incremental


@st.composite
def parallel_histories(draw):
    """An image big enough that jobs=2 cuts v0 into many work units (8-pixel tiles), and 1 to 3 patches."""
    tile = draw(st.sampled_from([8, 10]))
    width, height = draw(st.integers(8 * tile, 14 * tile)), draw(st.integers(8 * tile, 14 * tile))
    overlap, fmt = draw(st.sampled_from([0, 1])), draw(st.sampled_from(["jpg", "png"]))
    spec = PyramidSpec(width, height, tile, overlap=overlap, format=fmt)
    tiles = list(spec.grid.tiles(spec.grid.max_level))
    patches = draw(st.lists(st.sets(st.sampled_from(tiles), min_size=1, max_size=40), min_size=1, max_size=3))
    options = {
        "resampler": draw(st.sampled_from(["area", "dct"])),
        "storage": draw(st.sampled_from(["hardlink", "symlink"])),
    }
    return spec, patches, options


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@settings(max_examples=50 if IN_CI else 12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=parallel_histories())
def test_every_version_of_a_parallel_build_equals_its_from_scratch_build(history):
    """The README's first guarantee, version by version: two workers, several work units, non-empty patches."""
    from dzbuild.pyramid.planner import split_work

    spec, patches, options = history
    grid = spec.grid
    computed_by_v0 = {t for level in range(grid.max_level) for t in grid.tiles(level)}
    assert len(split_work(grid, computed_by_v0, 2)[0]) > 1  # the workers really share the work
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = (spec.width, spec.height, spec.tile_size)
        image_dir, _, _ = make_image_dir(root, *size, fmt=spec.format, overlap=spec.overlap)
        build(image_dir, jobs=2, **options)
        for number, patch in enumerate(patches, start=1):
            add_version(image_dir, spec, number, sorted(patch), seed=number)
            build(image_dir, jobs=2, **options)
        for number in range(len(patches) + 1):  # every version, not only the last
            scratch = root / f"scratch{number}"
            write_spec(scratch, spec)
            (scratch / "v0").mkdir()
            for name, data in final_tile_set(image_dir, number + 1).items():
                (scratch / "v0" / name).write_bytes(data)
            build(scratch, **options)  # inline: one process, no work units
            assert level_bytes(scratch / "dest", 0) == level_bytes(image_dir / "dest", number), number


def test_worker_pool_gives_the_same_bytes_as_inline(tmp_path):
    """Enough tiles that the plan is cut into subtrees plus a top, run in two processes."""
    image_dir, spec, _ = make_image_dir(tmp_path, 130, 120, 8)  # 17 x 15 base tiles
    pooled = build_pyramid(image_dir, options=BuildOptions(jobs=2))
    changed = [base(spec, 3, 4), base(spec, 16, 14)]
    add_version(image_dir, spec, 1, changed, seed=1)
    build_pyramid(image_dir, options=BuildOptions(jobs=2))
    assert pooled.computed == spec.grid.total_tiles - spec.grid.tile_count(spec.grid.max_level)
    scratch, _, _ = make_image_dir(tmp_path / "inline", 130, 120, 8)
    for tile in changed:
        name = f"{tile.col}_{tile.row}.jpg"
        shutil.copy(image_dir / "v1" / name, scratch / "v0" / name)
    build(scratch)
    assert level_bytes(scratch / "dest", 0) == level_bytes(image_dir / "dest", 1)
