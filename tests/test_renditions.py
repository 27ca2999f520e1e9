"""``api.HasRenditions``: whole-image pictures a format names and dzbuild computes, for any format."""

from __future__ import annotations

import pytest
from imagedirs import make_image_dir

from dzbuild import cli
from dzbuild.api import OutputFormat
from dzbuild.grid import Grid
from dzbuild.hookspecs import hookimpl
from dzbuild.io import codec
from dzbuild.maintain.check import check_dest
from dzbuild.plugins import contract_problem
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.renditions import source_level
from dzbuild.testing import plugin_registered


class PosterFormat:
    """No tiles of its own: a descriptor and two names for one 100x60 picture, and a 7x5 one."""

    name = "poster"
    descriptor = "poster.json"

    def dirs(self, grid):
        return []

    def tile_path(self, grid, tile, ext):
        return None

    def descriptors(self, spec, grid, context):
        return {self.descriptor: b"{}"}

    def viewer_source(self, descriptor_url, spec):
        return None

    def renditions(self, grid, ext):
        return {f"poster.{ext}": (100, 60), f"again/poster.{ext}": (100, 60), f"tiny.{ext}": (7, 5)}


class Plugin:
    @hookimpl
    def register_formats(self, register):
        register(PosterFormat())


@pytest.fixture
def poster():
    with plugin_registered(Plugin(), "test-poster"):
        yield


def test_the_source_level_is_the_coarsest_at_least_twice_the_size():
    grid = Grid(1001, 750, 256)  # levels 10: 1001x750, 9: 501x375, 8: 251x188, 7: 126x94
    assert source_level(grid, (90, 67)) == 8  # 251x188 >= 180x134; 126x94 is not
    assert source_level(grid, (256, 192)) == 10  # 501x375 is less than 512x384
    assert source_level(grid, (1000, 700)) == 10  # none is twice as large: the image itself


def test_a_format_names_pictures_and_every_version_gets_them(poster, tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 700, 500, 256)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, formats=("dzi", "poster")))
    v0 = image_dir / "dest" / "poster" / "v0"
    picture = codec.decode((v0 / "poster.jpg").read_bytes())
    assert (picture.shape[1], picture.shape[0]) == (100, 60)
    assert (v0 / "again/poster.jpg").read_bytes() == (v0 / "poster.jpg").read_bytes()  # one size, one picture
    assert codec.decode((v0 / "tiny.jpg").read_bytes()).shape == (5, 7, 3)
    assert check_dest(image_dir / "dest", deep=True) == []


def test_a_partial_capability_is_refused_at_registration():
    class Broken(PosterFormat):
        renditions = None  # named, but cannot be called

    assert contract_problem(Broken(), OutputFormat) == "whose renditions cannot be called (HasRenditions)"
    assert contract_problem(PosterFormat(), OutputFormat) is None


class BadPosterFormat(PosterFormat):
    name = "badposter"

    def __init__(self, named):
        self.named = named

    def renditions(self, grid, ext):
        return self.named


@pytest.mark.parametrize("named,message", [
    ({"../outside.jpg": (10, 10)}, "names the rendition '../outside.jpg' at a path that is not a relative path"),
    ({"big.jpg": (701, 10)}, "names the rendition 'big.jpg' at 701x10, which is not within the 700x500 image"),
    ({"odd.jpg": (10.5, 10)}, "names the rendition 'odd.jpg' with the size (10.5, 10), not (width, height)"),
    ({"poster.json": (10, 10)}, "names the rendition 'poster.json', which is also a tile or descriptor"),
])
def test_a_rendition_a_plugin_names_wrongly_is_refused_and_nothing_is_published(tmp_path, capsys, named, message):
    class Bad:
        @hookimpl
        def register_formats(self, register):
            register(BadPosterFormat(named))

    image_dir, _, _ = make_image_dir(tmp_path, 700, 500, 256)
    with plugin_registered(Bad(), "test-bad-poster"):
        code = cli.main(["pyramid", str(image_dir), "--jobs", "1", "--format", "dzi", "--format", "badposter"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 5 and len(lines) == 1 and message in lines[0] and "'badposter'" in lines[0]
    assert not (image_dir / "dest" / "dzi" / "v0").exists() and not (image_dir / "dest" / "badposter").exists()
