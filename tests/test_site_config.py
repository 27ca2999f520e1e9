"""Site configuration: dzbuild.toml or [tool.dzbuild], defaults, and errors that name the key and file."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sites import write_files

from dzbuild.errors import ConfigError
from dzbuild.site.config import collection_config, load_config
from dzbuild.site.configdoc import render, toml_value
from dzbuild.site.paths import check_written_places
from dzbuild.site.scan import SiteImage
from dzbuild.site.schema import declared_keys


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


# -- Derived from the declaration -------------------------------------------------------------

A_VALUE_OF = {str: "3", int: 3, list: ["3"], dict: {"a": 3}}  # one value of each TOML type


def toml_for(name: str, value) -> str:
    """``name`` (``viewer.format``, ``collections[].images``) set to ``value`` in a dzbuild.toml."""
    table, _, leaf = name.rpartition(".")
    line = f"{leaf} = {toml_value(value)}\n"
    if table == "collections[]":
        others = {"name": '"c"', "images": '["a"]'}
        return "[[collections]]\n" + "".join(f"{k} = {v}\n" for k, v in others.items() if k != leaf) + line
    return f"[{table}]\n{line}" if table else line


@pytest.mark.parametrize("name", sorted(declared_keys()))
def test_every_key_refuses_a_value_of_another_type(tmp_path, name):
    spec = declared_keys()[name]
    wrong = next(value for kind, value in A_VALUE_OF.items() if kind not in spec.toml)
    write_files(tmp_path, {"dzbuild.toml": toml_for(name, wrong)})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    label = name.replace("[]", "[0]")
    assert str(caught.value).startswith(f"{tmp_path / 'dzbuild.toml'}: {label!r} must be "), caught.value


@pytest.mark.parametrize("name", sorted(declared_keys()))
def test_every_key_is_documented_in_one_line_with_an_example_that_passes_its_check(name):
    spec = declared_keys()[name]
    assert spec.doc and "\n" not in spec.doc
    assert isinstance(spec.example, spec.toml) and (spec.check is None or spec.check(spec.example) is None)
    assert spec.required or spec.default is None or isinstance(spec.default, spec.toml)


def test_the_reference_page_is_written_from_the_declaration():
    """Regenerate with ``python -m dzbuild.site.configdoc > docs/configuration.md``."""
    page = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    assert page.read_text(encoding="utf-8") == render()
    rows = [line for line in render().splitlines() if line.startswith("| `")]
    assert len(rows) == len(declared_keys())


@pytest.mark.parametrize(
    "base_url, ok",
    [
        ("https://example.org:65535/zoom/", True),
        ("http://localhost:8080/", True),
        ("https://a-b.example/", True),
        ("https://example.org:0/", False),
        ("https://example.org:65536/", False),
        ("https://example.org:/", False),
        ("https://example.org:\uff18\uff10/", False),
        ("https://.example.org/", False),
        ("https://example.org./", False),
        ("https://-example.org/", False),
        ("https:///zoom/", False),
    ],
)
def test_base_url_needs_a_real_host_and_port(tmp_path, base_url, ok):
    write_files(tmp_path, {"dzbuild.toml": f'base_url = "{base_url}"\n'})
    if ok:
        assert load_config(tmp_path).base_url == base_url
    else:
        with pytest.raises(ConfigError, match="'base_url' (has|must)"):
            load_config(tmp_path)


@pytest.mark.parametrize(
    "files, text, message",
    [
        ({"g/collection.toml": 'name = "g"\n'}, 'data_file = "g/collection.toml"', "must not be a collection's"),
        ({"pyproject.toml": "[project]\n"}, 'data_file = "pyproject.toml"', "must not be the site's configuration"),
        ({"theme/index.html": "x"}, 'templates = "theme"\ndata_file = "theme/d.json"', "outside the templates"),
        ({}, 'data_file = "_site/_dzbuild/d.json"', "must not be a file dzbuild writes in the output"),
        ({}, 'data_file = "_site/index.html"', "must not be a file dzbuild writes in the output"),
        ({}, 'headers_file = "dzbuild.toml"', "'headers_file' must not be the site's configuration"),
        ({}, 'headers_file = "_site/_redirects"', "'headers_file' must not be a file dzbuild writes"),
        ({}, 'data_file = "_site/_headers"', "'data_file' must not be a file dzbuild writes"),
        ({}, 'data_file = "_site"', "'data_file' must be a file, not a folder"),
        ({}, 'data_file = "/dev/null"', "'data_file' must be a regular file"),  # checked before anything is written
        ({}, 'data_file = ".dzbuild/site.json"', "'data_file' must be a file outside the cache"),
        ({}, 'data_file = "d.json"\nredirects_file = "d.json"', "'redirects_file' and 'data_file' must be two files"),
    ],
)
def test_written_files_stay_off_what_dzbuild_reads_and_writes(tmp_path, files, text, message):
    (tmp_path / "_site").mkdir()
    write_files(tmp_path, {**files, "dzbuild.toml": text + "\n"})
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path)


def test_a_data_file_of_its_own_in_the_output_is_fine(tmp_path):
    write_files(tmp_path, {"dzbuild.toml": 'data_file = "_site/images.json"\n'})
    assert load_config(tmp_path).data_file == tmp_path / "_site" / "images.json"


def test_written_files_stay_out_of_the_folders_images_and_collections_publish(tmp_path):
    config = config_of(tmp_path, {"dzbuild.toml": 'data_file = "_site/g/a/notes.json"\n'})
    images = [SiteImage("g/a", tmp_path / "g" / "a")]
    collections = [collection_config({"name": "m", "images": ["g/*"]}, "dzbuild.toml", base="", where="")]
    check_written_places(config, images, collections, "dzbuild.toml")  # beside the image's page: the site's own
    for rel, publisher in [
        ("g/a/dzi/v0/x.json", "g/a/dzi/, which dzbuild publishes for the image 'g/a'"),
        ("g/a/changes/x.json", "g/a/changes/, which dzbuild publishes for the image 'g/a'"),
        ("m/v3/x.json", "m/v3/, which dzbuild publishes for the collection 'm'"),
        ("m/dzi/x.json", "m/dzi/, which dzbuild publishes for the collection 'm'"),
    ]:
        placed = replace(config, data_file=tmp_path / "_site" / rel)
        with pytest.raises(ConfigError, match=re.escape(f"'data_file' is inside {publisher}")):
            check_written_places(placed, images, collections, "dzbuild.toml")
