"""IIIF level-0 output: exact request paths, info.json, and tiles that are the DZI files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from dzbuild_iiif import IiifFormat, request_of

from dzbuild.errors import ConfigError
from dzbuild.grid import Grid, Tile
from dzbuild.io import codec
from dzbuild.pyramid.build import BuildOptions, build_pyramid

BASE_URL = "https://example.org/site/img/dest"


def build(image_dir, **options):
    defaults = {"jobs": 1, "formats": ("dzi", "iiif"), "base_url": BASE_URL}
    return build_pyramid(image_dir, options=BuildOptions(**{**defaults, **options}))


def test_paths_are_the_requests_of_the_specification():
    grid = Grid(1001, 750, 256)  # levels 10 (1001x750), 9 (501x375), 8 (251x188: one tile)
    fmt = IiifFormat()
    assert fmt.tile_path(grid, Tile(10, 0, 0), "jpg") == "0,0,256,256/256,256/0/default.jpg"
    assert fmt.tile_path(grid, Tile(10, 3, 2), "jpg") == "768,512,233,238/233,238/0/default.jpg"
    # Scale factor 2: the region is in full-size pixels, the size rounds up: ceil(489 / 2) = 245.
    assert fmt.tile_path(grid, Tile(9, 1, 1), "jpg") == "512,512,489,238/245,119/0/default.jpg"
    # Scale factor 4: one tile holds the whole image, ceil(1001 / 4) = 251 (not 250).
    assert fmt.tile_path(grid, Tile(8, 0, 0), "jpg") == "full/251,188/0/default.jpg"
    assert fmt.tile_path(grid, Tile(0, 0, 0), "png") == "full/1,1/0/default.png"
    assert IiifFormat().tile_path(Grid(200, 150, 256), Tile(8, 0, 0), "jpg") == "full/max/0/default.jpg"


def note_requests(width, height, tile, scale_factors):
    """Every tile request of the Image API 3.0 implementation notes' algorithm (section 3), with its size."""
    found = {}
    for s in scale_factors:
        for m in range(-(-height // (tile * s))):
            for n in range(-(-width // (tile * s))):
                xr, yr = n * tile * s, m * tile * s
                wr, hr = min(tile * s, width - xr), min(tile * s, height - yr)
                ws = tile if xr + tile * s <= width else (width - xr + s - 1) // s
                hs = tile if yr + tile * s <= height else (height - yr + s - 1) // s
                region = "full" if (xr, yr, wr, hr) == (0, 0, width, height) else f"{xr},{yr},{wr},{hr}"
                size = "max" if (ws, hs) == (width, height) else f"{ws},{hs}"
                found[f"{region}/{size}"] = (ws, hs)
    return found


@pytest.mark.parametrize("width,height,tile", [(1001, 750, 256), (513, 513, 256), (1497, 515, 256), (4097, 9, 64)])
def test_every_request_of_the_specification_is_a_dzi_tile_of_that_size(width, height, tile):
    grid = Grid(width, height, tile)
    top = next(level for level in reversed(grid.levels) if grid.tile_count(level) == 1)
    published = {}
    for level in grid.levels:
        for t in grid.tiles(level):
            request = request_of(grid, t)
            if request is not None:
                assert request not in published, f"{request} published twice"
                published[request] = tuple(grid.tile_size_of(t))
    expected = note_requests(width, height, tile, [1 << k for k in range(grid.max_level - top + 1)])
    assert {r: published.get(r) for r in expected} == expected


def test_info_json_describes_a_level0_image_service(make_image):
    image_dir = make_image(1001, 750)
    build(image_dir)
    info = json.loads((image_dir / "dest/iiif/v0/info.json").read_text())
    assert info == {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": f"{BASE_URL}/iiif/v0",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": 1001,
        "height": 750,
        "tiles": [{"width": 256, "scaleFactors": [1, 2, 4]}],
        "sizes": [{"width": w, "height": h} for w, h in
                  [(1, 1), (2, 2), (4, 3), (8, 6), (16, 12), (32, 24), (63, 47), (90, 67), (126, 94), (251, 188),
                   (256, 192)]],
        "maxWidth": 256,
        "maxHeight": 256,
    }
    for size in info["sizes"]:  # each listed size is served as a whole-image request
        assert (image_dir / f"dest/iiif/v0/full/{size['width']},{size['height']}/0/default.jpg").is_file()


@pytest.mark.parametrize("width,height", [(1001, 750), (200, 150), (4097, 9)])
def test_every_url_level0_requires_exists(make_image, width, height):
    """Image API 3.0 compliance, level 0: region ``full``, size ``max``, rotation 0, quality default, jpg,
    plus info.json, every listed size and every tile; ``max`` is bounded by maxWidth/maxHeight."""
    image_dir = make_image(width, height)
    build(image_dir)
    v0 = image_dir / "dest/iiif/v0"
    info = json.loads((v0 / "info.json").read_text())
    full_max = codec.decode((v0 / "full/max/0/default.jpg").read_bytes())
    limit = (info.get("maxWidth", width), info.get("maxHeight", height))
    scale = min(1, limit[0] / width, limit[1] / height)  # the implementation notes' max size, within both limits
    assert (full_max.shape[1], full_max.shape[0]) == (round(width * scale) or 1, round(height * scale) or 1)
    assert full_max.shape[1] == limit[0] or full_max.shape[0] == limit[1]
    for size in info["sizes"]:
        assert (v0 / f"full/{size['width']},{size['height']}/0/default.jpg").is_file()
    expected = note_requests(width, height, 256, info["tiles"][0]["scaleFactors"])
    assert all((v0 / f"{request}/0/default.jpg").is_file() for request in expected)
    from dzbuild.maintain.check import check_dest

    assert check_dest(image_dir / "dest") == []


def test_png_tiles_are_declared_as_the_preferred_format(make_image):
    image_dir = make_image(200, 150, fmt="png")
    build(image_dir)
    info = json.loads((image_dir / "dest/iiif/v0/info.json").read_text())
    assert info["extraFormats"] == ["png"] and info["preferredFormats"] == ["png"]
    assert (image_dir / "dest/iiif/v0/full/max/0/default.png").is_file()


def test_every_tile_is_the_dzi_file_with_the_size_its_path_says(make_image):
    image_dir = make_image(1497, 515)
    build(image_dir)
    dest, grid = image_dir / "dest", Grid(1497, 515, 256)
    for level in grid.levels:
        for tile in grid.tiles(level):
            request = request_of(grid, tile)
            iiif = dest / "iiif/v0" / f"{request}/0/default.jpg"
            dzi = dest / "dzi/v0/dzi_files" / f"{level}/{tile.col}_{tile.row}.jpg"
            assert os.path.samefile(iiif, dzi)
            size = request.split("/")[1]
            pixels = codec.decode(iiif.read_bytes())
            expected = (1497, 515) if size == "max" else tuple(map(int, size.split(",")))
            assert (pixels.shape[1], pixels.shape[0]) == expected


def test_a_patch_links_unchanged_tiles_to_the_first_version(make_image):
    from dzbuild.pyramid.spec import load_spec
    from dzbuild.pyramid.tiling import write_tiles
    from dzbuild.testing import synthetic_image

    image_dir = make_image(1001, 750)
    spec = load_spec(image_dir)
    write_tiles(image_dir / "v1", synthetic_image(1001, 750, seed=99), spec, [Tile(10, 3, 2)])
    build(image_dir)
    v0, v1 = image_dir / "dest/iiif/v0", image_dir / "dest/iiif/v1"
    assert os.path.samefile(v0 / "0,0,256,256/256,256/0/default.jpg", v1 / "0,0,256,256/256,256/0/default.jpg")
    changed = "768,512,233,238/233,238/0/default.jpg"
    assert not os.path.samefile(v0 / changed, v1 / changed)
    assert json.loads((v1 / "info.json").read_text())["id"] == f"{BASE_URL}/iiif/v1"


def test_a_build_without_base_url_is_refused_before_anything_is_published(make_image):
    image_dir = make_image(300, 200)
    with pytest.raises(ConfigError, match="--base-url"):
        build(image_dir, base_url=None)
    assert not (image_dir / "dest" / "dzi" / "v0").exists()


@pytest.mark.parametrize("base_url", ["/", "/site/img/dest", "site/img/dest", "ftp://example.org/dest"])
def test_a_base_url_that_is_not_an_absolute_http_url_is_refused_before_anything_is_published(make_image, base_url):
    image_dir = make_image(300, 200)
    with pytest.raises(ConfigError, match=r"absolute http\(s\) URL"):
        build(image_dir, base_url=base_url)
    assert not (image_dir / "dest").exists()
    build(image_dir, base_url="HTTP://example.org/dest")  # the scheme's case does not matter
    assert json.loads((image_dir / "dest/iiif/v0/info.json").read_text())["id"] == "HTTP://example.org/dest/iiif/v0"


@pytest.mark.skipif(
    not any(ep.name == "iiif" for ep in entry_points(group="dzbuild")), reason="dzbuild-iiif is not pip-installed"
)
def test_the_command_line_finds_the_installed_plugin(make_image):
    image_dir = make_image(200, 150)
    command = [sys.executable, "-m", "dzbuild", "pyramid", str(image_dir), "--format", "iiif", "--base-url", BASE_URL]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (image_dir / "dest/iiif/v0/full/max/0/default.jpg").is_file()
    refused = subprocess.run(command[:-2] + ["--rebuild"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--base-url" in refused.stderr
    assert (image_dir / "dest/iiif/v0/full/max/0/default.jpg").is_file()  # refused before discarding


def test_with_overlap_the_tiles_are_those_of_the_same_image_without(make_image):
    """Overlap changes only the DZI: the iiif tiles link to the overlap-free core pyramid, the same bytes."""
    plain, overlapping = make_image(700, 500), make_image(700, 500, overlap=1)
    for folder in (plain, overlapping):
        build(folder)
    a, b = plain / "dest/iiif/v0", overlapping / "dest/iiif/v0"
    files = sorted(p.relative_to(a) for p in a.rglob("*.jpg"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.jpg"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_openseadragon_opens_iiif_from_the_info_json_url():
    from dzbuild.pyramid.spec import PyramidSpec

    fmt = IiifFormat()
    assert fmt.descriptor == "info.json"
    assert fmt.viewer_source("iiif/v2/info.json", PyramidSpec(1001, 750, 256)) == "iiif/v2/info.json"
