"""Site configuration: dzbuild.toml or [tool.dzbuild], defaults, and errors that name the key and file."""

from __future__ import annotations

import pytest
from sites import write_files

from dzbuild.errors import ConfigError
from dzbuild.site.config import load_config


def config_of(tmp_path, files: dict[str, str]):
    write_files(tmp_path, files)
    return load_config(tmp_path)


def test_defaults_without_a_configuration(tmp_path):
    config = config_of(tmp_path, {})
    assert config.file is None
    assert (config.source, config.output, config.cache) == (tmp_path, tmp_path / "_site", tmp_path / ".dzbuild")
    assert config.headers_file == tmp_path / "_site" / "_headers"
    assert config.redirects_file == tmp_path / "_site" / "_redirects"
    assert (config.storage, config.formats, config.host, config.base_path) == (
        "hardlink",
        ("dzi",),
        "cloudflare-pages",
        "/",
    )
    assert config.viewer.openseadragon == "local" and config.collections == ()


def test_every_key_of_dzbuild_toml(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "theme").mkdir()
    config = config_of(
        tmp_path,
        {
            "dzbuild.toml": """
source = "content"
output = "public/zoom"
cache = ".cache/dz"
templates = "theme"
title = "My scans"
base_url = "https://example.org/zoom"
storage = "copy"
resampler = "area"
formats = ["dzi"]
jobs = 2
host = "netlify"
headers_file = "public/_headers"
redirects_file = false

[tiles]
format = "png"
quality = 90

[viewer]
openseadragon = "cdn"
options = { showNavigator = false, maxZoomPixelRatio = 2 }

[[collections]]
name = "maps"
images = ["maps/*"]
max_level = 7
"""
        },
    )
    assert config.file == tmp_path / "dzbuild.toml"
    assert config.source == tmp_path / "content" and config.output == tmp_path / "public" / "zoom"
    assert config.cache == tmp_path / ".cache" / "dz" and config.templates == tmp_path / "theme"
    assert (config.title, config.storage, config.resampler, config.jobs, config.host) == (
        "My scans",
        "copy",
        "area",
        2,
        "netlify",
    )
    assert config.base_path == "/zoom/"
    assert config.headers_file == tmp_path / "public" / "_headers" and config.redirects_file is None
    assert config.tile_defaults == {"format": "png", "quality": 90}
    assert config.viewer.openseadragon == "cdn" and config.viewer.options == {
        "showNavigator": False,
        "maxZoomPixelRatio": 2,
    }
    (maps,) = config.collections
    assert (maps.name, maps.images, maps.path, maps.max_level, maps.tile_size) == ("maps", ("maps/*",), "maps", 7, 256)


def test_tool_dzbuild_in_pyproject(tmp_path):
    config = config_of(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.dzbuild]\noutput = "site"\n'})
    assert config.file == tmp_path / "pyproject.toml" and config.output == tmp_path / "site"


def test_dzbuild_toml_wins_over_pyproject(tmp_path):
    config = config_of(tmp_path, {"pyproject.toml": '[tool.dzbuild]\noutput = "a"\n', "dzbuild.toml": 'output = "b"\n'})
    assert config.output == tmp_path / "b"


@pytest.mark.parametrize(
    "text, message",
    [
        ('outptu = "x"\n', "unknown key 'outptu'"),
        ('jobs = "4"\n', "'jobs' must be an integer, got '4'"),
        ("jobs = true\n", "'jobs' must be an integer, got True"),
        ("formats = [1]\n", "'formats' must be a list of strings"),
        ("[tiles]\nqualty = 3\n", "unknown key 'tiles.qualty'"),
        ("[tiles]\nquality = 101\n", "'tiles.quality' must be between 1 and 100"),
        ('[tiles]\nformat = "gif"\n', "'tiles.format' must be one of jpg, png"),
        ('[viewer]\nopenseadragon = "unpkg"\n', "'viewer.openseadragon' must be one of local, cdn"),
        ('[viewer]\ncdn_url = "https://x/osd.js"\n', "needs 'viewer.cdn_integrity'"),
        ('viewer = "x"\n', "'viewer' must be a table"),
        ('host = "geocities"\n', "'host' must be one of"),
        ('base_url = "zoom"\n', "'base_url' must be a URL path (/zoom/) or an http(s) URL"),
        ('output = "."\n', "'output' must not be the source folder"),
        ('cache = "_site/.cache"\n', "'cache' must be outside 'output'"),
        ('formats = ["iiif"]\n', 'must include "dzi"'),
        ("collections = 3\n", "'collections' must be an array of tables"),
        ('[[collections]]\nimages = ["a"]\n', "'collections[0].name' is required"),
        ('[[collections]]\nname = "x"\nimages = ["a"]\ncolour = 1\n', "unknown key 'collections[0].colour'"),
        ('[[collections]]\nname = "x y"\nimages = ["a"]\n', "letters, digits"),
        ('[[collections]]\nname = "x"\nimages = []\n', "'collections[0].images' must list at least one"),
        ("title = [\n", "invalid TOML"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path, text, message):
    write_files(tmp_path, {"dzbuild.toml": text})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "dzbuild.toml"))


def test_errors_in_pyproject_name_pyproject(tmp_path):
    write_files(tmp_path, {"pyproject.toml": "[tool.dzbuild]\nstorage = 3\n"})
    with pytest.raises(ConfigError, match="'storage' must be a string") as caught:
        load_config(tmp_path)
    assert caught.value.path == str(tmp_path / "pyproject.toml")


def test_a_missing_site_folder(tmp_path):
    with pytest.raises(ConfigError, match="is not a folder"):
        load_config(tmp_path / "nope")


class _NoViewerFormat:
    """A format OpenSeadragon cannot open: its ``viewer_source`` says None."""

    name = "opaque"
    descriptor = "opaque.json"

    def dirs(self, grid):
        return []

    def tile_path(self, grid, tile, ext):
        return f"{tile.level}-{tile.col}-{tile.row}.{ext}"

    def descriptors(self, spec, grid, context):
        return {}

    def viewer_source(self, descriptor_url, spec):
        return None


def test_the_viewer_format_must_be_published_and_open_in_openseadragon(tmp_path):
    from dzbuild.hookspecs import hookimpl
    from dzbuild.testing import plugin_registered

    class Plugin:
        @hookimpl
        def register_formats(self, register):
            register(_NoViewerFormat())

    write_files(tmp_path, {"dzbuild.toml": '[viewer]\nformat = "opaque"\n'})
    with pytest.raises(ConfigError, match="must include \"opaque\", the format the viewer pages open") as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "dzbuild.toml"))
    write_files(tmp_path, {"dzbuild.toml": 'formats = ["dzi", "opaque"]\n[viewer]\nformat = "opaque"\n'})
    with plugin_registered(Plugin(), "test-opaque"):
        with pytest.raises(ConfigError, match="'viewer.format': OpenSeadragon cannot open the 'opaque' format"):
            load_config(tmp_path)
        write_files(tmp_path, {"dzbuild.toml": 'formats = ["opaque", "dzi"]\n'})
        assert load_config(tmp_path).formats == ("opaque", "dzi")  # it places every tile: it may be the home


def test_formats_are_put_in_build_order(tmp_path):
    from dzbuild.hookspecs import hookimpl
    from dzbuild.testing import plugin_registered

    class Partial(_NoViewerFormat):
        name = "partial"

        def tile_path(self, grid, tile, ext):
            return None if tile.level > 1 else f"{tile.level}.{ext}"

    class Plugin:
        @hookimpl
        def register_formats(self, register):
            register(Partial())

    with plugin_registered(Plugin(), "test-partial"):
        assert config_of(tmp_path, {"dzbuild.toml": 'formats = ["partial", "dzi"]\n'}).formats == ("dzi", "partial")
        write_files(tmp_path, {"dzbuild.toml": 'formats = ["partial"]\n[viewer]\nformat = "partial"\n'})
        with pytest.raises(ConfigError, match="'formats': none of the formats 'partial' gives a path to every tile"):
            load_config(tmp_path)


@pytest.mark.parametrize(
    "text, hint",
    [
        ('[veiwer]\nopenseadragon = "cdn"\n', "unknown key 'veiwer' (did you mean [viewer]?)"),
        ("[tile]\nquality = 80\n", "unknown key 'tile' (did you mean [tiles]?)"),
        ('[[colections]]\nname = "x"\n', "unknown key 'colections' (did you mean [[collections]]?)"),
        ('ouptut = "x"\n', "unknown key 'ouptut' (did you mean 'output'?)"),
        ("[viewer]\noptoins = {}\n", "unknown key 'viewer.optoins' (did you mean 'viewer.options'?)"),
        ("zzz = 1\n", "unknown key 'zzz' (known keys: "),
    ],
)
def test_unknown_keys_suggest_the_closest_key_or_table(tmp_path, text, hint):
    write_files(tmp_path, {"dzbuild.toml": text})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'dzbuild.toml'}: {hint}" in message
    if "." not in hint.split("'")[1]:  # the top level lists its tables too
        assert message.endswith("; tables: [tiles], [viewer], [[collections]])")
