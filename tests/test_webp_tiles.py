"""WebP tiles: accepted in pyramid.json, checked like JPEG and PNG, published with Format="webp"."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dzbuild.errors import SourceError
from dzbuild.grid import Tile
from dzbuild.io import codec
from dzbuild.io.imageinfo import sniff
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import PyramidSpec, parse_spec
from dzbuild.pyramid.tiling import write_spec, write_tiles
from dzbuild.testing import synthetic_image

pytestmark = pytest.mark.skipif(not codec.cv().haveImageWriter(".webp"), reason="this OpenCV has no WebP encoder")


def make_webp_image(root, quality=85):
    spec = PyramidSpec(600, 400, 256, format="webp", quality=quality)
    folder = root / f"q{quality}"
    write_spec(folder, spec)
    write_tiles(folder / "v0", synthetic_image(600, 400, seed=4), spec)
    return folder


def test_pyramid_json_accepts_webp():
    assert parse_spec('{"width": 9, "height": 9, "tile_size": 8, "overlap": 0, "format": "webp"}').format == "webp"


def test_a_webp_pyramid_is_published_with_webp_tiles(tmp_path):
    folder = make_webp_image(tmp_path)
    build_pyramid(folder, options=BuildOptions(jobs=1))
    out = folder / "dest/dzi/v0"
    root = ET.parse(out / "dzi.xml").getroot()
    assert root.attrib["Format"] == "webp"
    parent = sniff((out / "dzi_files/9/1_0.webp").read_bytes())  # level 9 is 300x200: a computed edge tile
    assert (parent.codec, parent.width, parent.height) == ("webp", 44, 200)
    assert codec.decode((out / "dzi_files/0/0_0.webp").read_bytes()).shape == (1, 1, 3)


def test_quality_is_the_webp_quality(tmp_path):
    low, high = make_webp_image(tmp_path, quality=30), make_webp_image(tmp_path, quality=95)
    assert (low / "v0/0_0.webp").stat().st_size < (high / "v0/0_0.webp").stat().st_size / 2


def test_an_increment_is_byte_identical_to_a_fresh_build(tmp_path):
    folder = make_webp_image(tmp_path)
    spec = PyramidSpec(600, 400, 256, format="webp")
    build_pyramid(folder, options=BuildOptions(jobs=1))
    write_tiles(folder / "v1", synthetic_image(600, 400, seed=5), spec, [Tile(10, 2, 1)])
    build_pyramid(folder, options=BuildOptions(jobs=1))
    fresh = build_pyramid(folder, tmp_path / "fresh", options=BuildOptions(jobs=1))
    assert [v.version for v in fresh.versions] == [0, 1]
    for path in (folder / "dest/dzi/v1").rglob("*.webp"):
        assert path.read_bytes() == (tmp_path / "fresh/dzi/v1" / path.relative_to(folder / "dest/dzi/v1")).read_bytes()


def test_mislabelled_and_truncated_webp_tiles_are_refused():
    data = codec.encode(synthetic_image(64, 64), "webp", 80)
    assert codec.check_tile(data, "0_0.webp", (64, 64)).codec == "webp"
    with pytest.raises(SourceError, match="is a JPG file named .webp"):
        codec.check_tile(codec.encode(synthetic_image(64, 64), "jpg", 80), "0_0.webp")
    with pytest.raises(SourceError, match="truncated WebP"):
        codec.check_tile(data[:-10], "0_0.webp")
