"""Whole-image pictures no pyramid level has: ``full/max`` within ``maxWidth``/``maxHeight``, and the thumbnail."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from dzbuild_iiif import request_of

from dzbuild import cli
from dzbuild.grid import Grid, Tile
from dzbuild.heavy import cv, np
from dzbuild.io import codec
from dzbuild.io.imageinfo import sniff
from dzbuild.maintain.check import check_dest
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.testing import make_image_folder, synthetic_image

BASE_URL = "https://example.org/site/img/dest"


def build(image_dir, **options):
    defaults = {"jobs": 1, "formats": ("dzi", "iiif"), "base_url": BASE_URL}
    return build_pyramid(image_dir, options=BuildOptions(**{**defaults, **options}))


def whole_image(image_dir: Path, version: int = 0):
    """The full-size picture, stitched from the source tiles of ``v{version}``."""
    spec = load_spec(image_dir)
    grid, canvas = spec.grid, codec.blank(spec.width, spec.height)
    for tile in grid.tiles(grid.max_level):
        pixels = codec.decode((image_dir / f"v{version}" / f"{tile.col}_{tile.row}.{spec.format}").read_bytes())
        x, y = tile.col * spec.tile_size, tile.row * spec.tile_size
        canvas[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
    return canvas


def psnr(a, b) -> float:
    error = np().mean((a.astype("float64") - b.astype("float64")) ** 2)
    return math.inf if error == 0 else 10 * math.log10(255**2 / error)


def served_size(path: Path) -> tuple[int, int]:
    found = sniff(path.read_bytes())
    return found.width, found.height


def close_to_the_image(picture, image_dir: Path) -> bool:
    """PSNR against the full image resized to the picture's size: over 35 dB for lossless tiles; for JPEG
    (quality 85, which alone costs about 33 dB on this detailed picture) within 1 dB of encoding that
    resize directly at the image's quality."""
    spec = load_spec(image_dir)
    size = (picture.shape[1], picture.shape[0])
    reference = cv().resize(whole_image(image_dir), size, interpolation=cv().INTER_AREA)
    if spec.format == "png":
        return psnr(picture, reference) > 35
    direct = codec.decode(codec.encode(reference, spec.format, spec.quality))
    return psnr(picture, reference) > psnr(direct, reference) - 1


@pytest.mark.parametrize("width,height,overlap,fmt", [
    (1001, 750, 0, "png"), (300, 1000, 0, "png"), (1001, 750, 0, "jpg"), (4097, 9, 0, "png"), (700, 500, 1, "jpg"),
])
def test_max_size_holds_every_tile_and_full_max_is_the_image_fitted_within_it(make_image, width, height, overlap, fmt):
    image_dir = make_image(width, height, overlap=overlap, fmt=fmt)
    build(image_dir)
    v0 = image_dir / "dest/iiif/v0"
    info = json.loads((v0 / "info.json").read_text())
    limit = info["maxWidth"], info["maxHeight"]
    grid = Grid(width, height, 256)
    requests = {request_of(grid, tile) for level in grid.levels for tile in grid.tiles(level)} - {None}
    served = [served_size(v0 / f"{request}/0/default.{fmt}") for request in requests]
    assert max(w for w, _ in served) <= limit[0] and max(h for _, h in served) <= limit[1]
    assert max(w for w, _ in served) == 256 or max(h for _, h in served) == 256  # no tighter than the tiles
    full_max = codec.decode((v0 / f"full/max/0/default.{fmt}").read_bytes())
    scale = min(limit[0] / width, limit[1] / height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    assert (full_max.shape[1], full_max.shape[0]) == fitted
    assert fitted not in {tuple(grid.level_size(level)) for level in grid.levels}  # no level has it
    assert {"width": fitted[0], "height": fitted[1]} in info["sizes"]
    listed = v0 / f"full/{fitted[0]},{fitted[1]}/0/default.{fmt}"
    assert listed.read_bytes() == (v0 / f"full/max/0/default.{fmt}").read_bytes()
    assert close_to_the_image(full_max, image_dir)
    assert check_dest(image_dir / "dest", deep=True) == []


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_universal_viewers_thumbnail_is_90_pixels_wide_listed_and_published(make_image, fmt):
    image_dir = make_image(1001, 750, fmt=fmt)
    build(image_dir)
    v0 = image_dir / "dest/iiif/v0"
    thumbnail = codec.decode((v0 / f"full/90,/0/default.{fmt}").read_bytes())
    assert (thumbnail.shape[1], thumbnail.shape[0]) == (90, 67)  # 750 * 90 / 1001 = 67.4
    assert {"width": 90, "height": 67} in json.loads((v0 / "info.json").read_text())["sizes"]
    assert (v0 / f"full/90,67/0/default.{fmt}").read_bytes() == (v0 / f"full/90,/0/default.{fmt}").read_bytes()
    assert close_to_the_image(thumbnail, image_dir)


@pytest.mark.parametrize("width,height", [(512, 300), (180, 136)])
def test_a_requested_picture_a_level_has_is_that_levels_tile(make_image, width, height):
    """512x300 fitted in 256 px is the 256x150 level; 180x136 at 90 px wide is the 90x68 level."""
    image_dir = make_image(width, height)
    build(image_dir)
    v0, grid = image_dir / "dest/iiif/v0", Grid(width, height, 256)
    info = json.loads((v0 / "info.json").read_text())
    request = "full/max" if "maxWidth" in info else "full/90,"
    level = next(level for level in grid.levels if grid.level_size(level)[0] in (256, 90))
    tile_file = image_dir / f"dest/dzi/v0/dzi_files/{level}/0_0.jpg"
    assert (v0 / f"{request}/0/default.jpg").samefile(tile_file)
    assert check_dest(image_dir / "dest", deep=True) == []


def test_an_image_too_tall_for_a_90_pixel_thumbnail_within_max_height_offers_none(make_image):
    image_dir = make_image(300, 1000)  # 90 px wide would be 300 px high, more than maxHeight
    build(image_dir)
    v0 = image_dir / "dest/iiif/v0"
    assert not (v0 / "full/90,").exists()
    assert all(size["height"] <= 256 for size in json.loads((v0 / "info.json").read_text())["sizes"])


def add_version(image_dir: Path, number: int, seed: int, tiles: list[Tile]) -> None:
    spec = load_spec(image_dir)
    write_tiles(image_dir / f"v{number}", synthetic_image(spec.width, spec.height, seed=seed), spec, tiles)


def renditions_of(folder: Path) -> dict[str, bytes]:
    names = ("full/max/0/default.jpg", "full/256,192/0/default.jpg", "full/90,/0/default.jpg",
             "full/90,67/0/default.jpg")
    return {name: (folder / name).read_bytes() for name in names}


def test_an_incremental_build_gives_the_renditions_of_a_build_from_scratch(make_image, tmp_path):
    image_dir = make_image(1001, 750)
    add_version(image_dir, 1, seed=7, tiles=[Tile(10, 3, 2), Tile(10, 0, 0)])
    build(image_dir)
    scratch = make_image_folder(tmp_path / "scratch", 1001, 750, 256)
    shutil.rmtree(scratch / "v0")
    shutil.copytree(image_dir / "v0", scratch / "v0")
    for path in (image_dir / "v1").iterdir():  # v1's whole tile set, built as a first version
        shutil.copy2(path, scratch / "v0" / path.name)
    build(scratch)
    incremental = renditions_of(image_dir / "dest/iiif/v1")
    assert incremental == renditions_of(scratch / "dest/iiif/v0")
    assert incremental != renditions_of(image_dir / "dest/iiif/v0")  # the change reaches the pictures
    for name in incremental:  # every version holds its own file
        assert not (image_dir / "dest/iiif/v1" / name).samefile(image_dir / "dest/iiif/v0" / name)


def test_backfilling_iiif_onto_published_versions_gives_the_renditions_of_a_build_with_it(make_image, tmp_path):
    image_dir = make_image(1001, 750)
    add_version(image_dir, 1, seed=7, tiles=[Tile(10, 1, 1)])
    twin = tmp_path / "twin"
    shutil.copytree(image_dir, twin)
    build(image_dir, formats=("dzi",))
    assert not (image_dir / "dest/iiif").exists()
    build(image_dir)  # the format asked for later: added to v0 and v1
    build(twin)
    for version in (0, 1):
        assert renditions_of(image_dir / f"dest/iiif/v{version}") == renditions_of(twin / f"dest/iiif/v{version}")
    assert cli.main(["check", "--deep", str(image_dir)]) == 0


def test_deep_check_finds_a_rendition_that_is_not_its_recomputation(make_image):
    image_dir = make_image(1001, 750)
    build(image_dir)
    assert check_dest(image_dir / "dest", deep=True) == []
    full_max = image_dir / "dest/iiif/v0/full/max/0/default.jpg"
    other = codec.encode(synthetic_image(256, 192, seed=3), "jpg", 90)  # the right size, other pixels
    full_max.write_bytes(other)
    assert check_dest(image_dir / "dest") == []  # a shallow check reads headers only
    problems = [str(p) for p in check_dest(image_dir / "dest", deep=True)]
    assert problems == [f"{full_max}: differs from its recomputation from the tiles of v0"]
    full_max.write_bytes(codec.encode(synthetic_image(200, 150, seed=3), "jpg", 90))
    problems = [str(p) for p in check_dest(image_dir / "dest")]
    assert problems == [f"{full_max}: is 200x150 pixels but the grid expects 256x192"]
    full_max.unlink()
    assert [str(p) for p in check_dest(image_dir / "dest")] == [f"{full_max}: is missing"]


def test_a_vacuum_keeps_the_renditions_of_the_versions_it_keeps(make_image):
    """Vacuuming v0 moves the tiles v1 shared with it into v1; v1's pictures stay byte for byte, and
    a version folder added afterwards is still the recomputation of its tiles."""
    from dzbuild.pyramid.vacuum import vacuum

    image_dir = make_image(1001, 750)
    add_version(image_dir, 1, seed=7, tiles=[Tile(10, 2, 1)])
    build(image_dir, storage="symlink")
    before = renditions_of(image_dir / "dest/iiif/v1")
    vacuum(image_dir, remove="v0")
    assert not (image_dir / "dest/iiif/v0").exists()
    assert renditions_of(image_dir / "dest/iiif/v1") == before
    add_version(image_dir, 2, seed=8, tiles=[Tile(10, 0, 0)])
    build(image_dir, storage="symlink")
    assert check_dest(image_dir / "dest", deep=True) == []
