"""The IIIF consortium's own Image API validator (PyPI ``iiif-validator``), run against a served output.

Its level-0 tests for 3.0 read ``info.json`` and request ``full/max`` as JPEG; ``id_squares`` also
reads the colours of its reference picture (10x10 squares on 1000x1000, colours from the
validator's own table, drawn here) at full-size coordinates, so it needs ``full/max`` to be the
whole image: it runs on a build whose tiles hold the image in one (1024 px). With 256-pixel tiles
``full/max`` is 256x256, within ``maxWidth``/``maxHeight``, which the validator does not consider.
"""

from __future__ import annotations

import pytest
from iiif_validator import validator

from dzbuild.heavy import np
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import PyramidSpec
from dzbuild.pyramid.tiling import write_spec, write_tiles
from dzbuild.testing.viewer import start_server, stop_server

LEVEL0 = ["info_json", "id_basic", "format_jpg", "size_nofull"]


def reference_picture():
    """The validator's test picture: square (x, y) of 100x100 pixels in colour ``colorInfo[x][y]`` (RGB)."""
    colours = validator.ValidationInfo().colorInfo
    pixels = np().zeros((1000, 1000, 3), dtype="uint8")
    for x in range(10):
        for y in range(10):
            red, green, blue = colours[x][y]
            pixels[y * 100 : (y + 1) * 100, x * 100 : (x + 1) * 100] = (blue, green, red)
    return pixels


@pytest.fixture
def served(tmp_path):
    server = start_server(tmp_path)
    yield tmp_path, f"127.0.0.1:{server.server_address[1]}"
    stop_server(server)


def failures(root, host: str, tile_size: int, tests: list[str]) -> list:
    image_dir = root / f"t{tile_size}"
    spec = PyramidSpec(1000, 1000, tile_size)
    write_spec(image_dir, spec)
    write_tiles(image_dir / "v0", reference_picture(), spec)
    options = BuildOptions(jobs=1, formats=("dzi", "iiif"), base_url=f"http://{host}/t{tile_size}/dest")
    build_pyramid(image_dir, options=options)
    found = []
    for name in tests:
        result = validator.ImageAPI("v0", host, f"t{tile_size}/dest/iiif", "http", "", "3.0", debug=False)
        validator.TestSuite(validator.ValidationInfo()).run_test(name, result)
        if result.exception is not None:
            error = result.exception
            found.append((name, error.type, error.got, error.expected, error.message))
    return found


def test_the_level0_tests_pass_with_max_width_and_height(served):
    root, host = served
    listed = validator.TestSuite(validator.ValidationInfo()).list_tests("3.0")
    assert {name for name, test in listed.items() if test["level"] == 0} == {*LEVEL0, "id_squares"}
    assert failures(root, host, 256, LEVEL0) == []


def test_the_reference_picture_comes_back_with_its_colours(served):
    root, host = served
    assert failures(root, host, 1024, [*LEVEL0, "id_squares"]) == []
