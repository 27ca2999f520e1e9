"""Zoomify output: tiers, tile numbers and groups, ImageProperties.xml, and tiles that are the DZI files."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import pytest
from dzbuild_zoomify import ZoomifyFormat, tiers_for

from dzbuild.grid import Grid, Tile
from dzbuild.io import codec
from dzbuild.pyramid.build import BuildOptions, build_pyramid


def build(image_dir):
    return build_pyramid(image_dir, options=BuildOptions(jobs=1, formats=("dzi", "zoomify")))


def test_tiers_halve_rounding_down_until_one_tile():
    tiers = tiers_for(Grid(5000, 4000, 256))
    assert tiers.sizes == ((156, 125), (312, 250), (625, 500), (1250, 1000), (2500, 2000), (5000, 4000))
    assert tiers.offsets == (0, 1, 3, 9, 29, 109) and tiers.tile_count == 429
    assert tiers.first_level == 8  # DZI level 13 is the full size; tier 0 is five halvings below
    # 513 wide: the Zoomify rule stops at 256 (two tiers); rounding up (vips, OpenLayers' default) gives three.
    assert tiers_for(Grid(513, 300, 256)).sizes == ((256, 150), (513, 300))


def test_paths_number_tiles_through_all_tiers_256_a_group():
    grid, fmt = Grid(5000, 4000, 256), ZoomifyFormat()
    assert fmt.tile_path(grid, Tile(8, 0, 0), "jpg") == "TileGroup0/0-0-0.jpg"
    assert fmt.tile_path(grid, Tile(13, 0, 0), "jpg") == "TileGroup0/5-0-0.jpg"  # tile 109
    assert fmt.tile_path(grid, Tile(13, 6, 7), "jpg") == "TileGroup0/5-6-7.jpg"  # tile 255
    assert fmt.tile_path(grid, Tile(13, 7, 7), "jpg") == "TileGroup1/5-7-7.jpg"  # tile 256
    assert fmt.tile_path(grid, Tile(13, 19, 15), "jpg") == "TileGroup1/5-19-15.jpg"  # tile 428, the last
    assert fmt.tile_path(grid, Tile(7, 0, 0), "jpg") is None  # below the first tier
    assert fmt.dirs(grid) == ["TileGroup0", "TileGroup1"]


def test_a_tile_only_the_rounded_up_grid_has_is_published_where_openseadragon_asks():
    grid = Grid(513, 300, 256)  # DZI level 9 is 257 wide (two tiles); the tier is 256 (one)
    assert ZoomifyFormat().tile_path(grid, Tile(9, 1, 0), "jpg") == "TileGroup0/0-1-0.jpg"
    assert ZoomifyFormat().tile_path(grid, Tile(10, 0, 0), "jpg") == "TileGroup0/1-0-0.jpg"


def test_image_properties_and_linked_tiles(make_image):
    image_dir = make_image(1497, 515)
    build(image_dir)
    out = image_dir / "dest/zoomify/v0"
    props = ET.parse(out / "ImageProperties.xml").getroot()
    assert props.tag == "IMAGE_PROPERTIES"
    assert props.attrib == {
        "WIDTH": "1497", "HEIGHT": "515", "NUMTILES": "27", "NUMIMAGES": "1", "VERSION": "1.8", "TILESIZE": "256"
    }
    grid, fmt = Grid(1497, 515, 256), ZoomifyFormat()
    tiers = tiers_for(grid)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert len(files) == 27
    for level in grid.levels[tiers.first_level:]:
        tier_w, tier_h = tiers.sizes[level - tiers.first_level]
        for tile in grid.tiles(level):
            path = out / fmt.tile_path(grid, tile, "jpg")
            assert os.path.samefile(path, image_dir / f"dest/dzi/v0/dzi_files/{level}/{tile.col}_{tile.row}.jpg")
            pixels = codec.decode(path.read_bytes())
            zoomify_w = min(256, tier_w - 256 * tile.col)
            zoomify_h = min(256, tier_h - 256 * tile.row)
            # Deep Zoom rounds the level up: at most one extra column/row of partial pixels on the edge.
            assert pixels.shape[1] - zoomify_w in (0, 1) and pixels.shape[0] - zoomify_h in (0, 1)


def test_with_overlap_the_tiles_are_those_of_the_same_image_without(make_image):
    """Overlap changes only the DZI: the zoomify tiles link to the overlap-free core pyramid, the same bytes."""
    plain, overlapping = make_image(700, 500), make_image(700, 500, overlap=1)
    for folder in (plain, overlapping):
        build(folder)
    a, b = plain / "dest/zoomify/v0", overlapping / "dest/zoomify/v0"
    files = sorted(p.relative_to(a) for p in a.rglob("*.jpg"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.jpg"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


@pytest.mark.skipif(
    not any(ep.name == "zoomify" for ep in entry_points(group="dzbuild")), reason="dzbuild-zoomify is not pip-installed"
)
def test_the_command_line_finds_the_installed_plugin(make_image):
    image_dir = make_image(600, 400)
    done = subprocess.run(
        [sys.executable, "-m", "dzbuild", "pyramid", str(image_dir), "--format", "zoomify"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (image_dir / "dest/zoomify/v0/TileGroup0/2-2-1.jpg").is_file()


def test_openseadragon_opens_zoomify_from_a_tile_source_object():
    from dzbuild.pyramid.spec import PyramidSpec

    fmt = ZoomifyFormat()
    source = fmt.viewer_source(f"zoomify/v3/{fmt.descriptor}", PyramidSpec(1497, 515, 256, format="png"))
    assert fmt.descriptor == "ImageProperties.xml"
    assert source == {"type": "zoomifytileservice", "width": 1497, "height": 515, "tileSize": 256,
                      "tilesUrl": "zoomify/v3/", "fileFormat": "png"}
