"""``resolve_formats``: the one rule that puts a format placing every tile first, for every entry point."""

from __future__ import annotations

import json
import os

import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes

from dzbuild import cli
from dzbuild.errors import ConfigError
from dzbuild.hookspecs import hookimpl
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.formats import DEFAULT_FORMATS, places_every_tile, resolve_formats
from dzbuild.testing import plugin_registered


class CoarseFormat:
    """Publishes only levels 0..2, as Zoomify leaves out levels below one tile: it can only link."""

    name = "coarse"
    descriptor = "coarse.json"

    def dirs(self, grid):
        return ["t"]

    def tile_path(self, grid, tile, ext):
        return f"t/{tile.level}-{tile.col}-{tile.row}.{ext}" if tile.level <= 2 else None

    def descriptors(self, spec, grid, context):
        return {self.descriptor: b"{}"}

    def viewer_source(self, descriptor_url, spec):
        return None


class FullFormat(CoarseFormat):
    """Every tile in one folder: a format that could be the home."""

    name = "full"

    def tile_path(self, grid, tile, ext):
        return f"t/{tile.level}-{tile.col}-{tile.row}.{ext}"


class Plugin:
    @hookimpl
    def register_formats(self, register):
        register(CoarseFormat())
        register(FullFormat())


@pytest.fixture
def formats():
    with plugin_registered(Plugin(), "test-formats"):
        yield


def test_the_default_and_an_order_that_works_are_kept(formats):
    assert resolve_formats(DEFAULT_FORMATS) == ("dzi",)
    assert resolve_formats(["dzi", "coarse", "dzi"]) == ("dzi", "coarse")
    assert resolve_formats(("full", "dzi", "coarse")) == ("full", "dzi", "coarse")


def test_a_format_that_places_every_tile_moves_first(formats):
    assert resolve_formats(("coarse", "dzi")) == ("dzi", "coarse")
    assert resolve_formats(("coarse", "full", "dzi")) == ("full", "coarse", "dzi")


def test_an_order_that_cannot_work_is_refused(formats):
    with pytest.raises(ConfigError, match="none of the formats 'coarse' gives a path to every tile.*add 'dzi'"):
        resolve_formats(("coarse",))
    with pytest.raises(ConfigError, match="at least one"):
        resolve_formats(())


def test_places_every_tile(formats):
    from dzbuild.plugins import registry

    assert places_every_tile(registry().get("format", "dzi")) and places_every_tile(FullFormat())
    assert not places_every_tile(CoarseFormat())


def test_the_python_api_builds_the_home_first_whatever_the_order(formats, tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 257, 255, 64)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, formats=("coarse", "dzi")))
    build_pyramid(image_dir, tmp_path / "ordered", BuildOptions(jobs=1, formats=("dzi", "coarse")))
    dest = image_dir / "dest"
    assert json.loads((dest / ".dzbuild" / "v0.json").read_text())["formats"] == ["dzi", "coarse"]
    assert tree_bytes(dest / "dzi") == tree_bytes(tmp_path / "ordered" / "dzi")
    assert tree_bytes(dest / "coarse") == tree_bytes(tmp_path / "ordered" / "coarse")
    assert os.path.samefile(
        dest / "coarse" / "v0" / "t" / "2-0-0.jpg", dest / "dzi" / "v0" / "dzi_files" / "2" / "0_0.jpg"
    )
    with pytest.raises(ConfigError, match="gives a path to every tile"):
        build_pyramid(image_dir, tmp_path / "refused", BuildOptions(jobs=1, formats=("coarse",)))
    assert not (tmp_path / "refused").exists()


def test_the_published_home_stays_first(formats, tmp_path):
    """A later run naming another full format first still links to where published versions hold tiles."""
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    add_version(image_dir, spec, 1, [base(spec, 4, 3)], seed=1)
    build_pyramid(image_dir, options=BuildOptions(jobs=1, formats=("full",)))
    record = json.loads((image_dir / "dest" / ".dzbuild" / "v1.json").read_text())
    assert record["formats"] == ["dzi", "full"]
    full = image_dir / "dest" / "full" / "v1" / "t"
    assert os.path.samefile(full / "8-0-0.jpg", image_dir / "dest" / "dzi" / "v1" / "dzi_files" / "8" / "0_0.jpg")


def test_the_cli_passes_through_the_same_rule(formats, tmp_path, capsys):
    image_dir, _, _ = make_image_dir(tmp_path, 257, 255, 64)
    assert cli.main(["pyramid", str(image_dir), "--jobs", "1", "--format", "coarse", "--format", "dzi"]) == 0
    record = json.loads((image_dir / "dest" / ".dzbuild" / "v0.json").read_text())
    assert record["formats"] == ["dzi", "coarse"]


def test_only_the_formats_spell_out_their_paths():
    """Pages, collections, check and vacuum ask the format objects; no other module names their files."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "dzbuild"
    owners = {"default_plugins/format_dzi.py", "pyramid/target.py", "pyramid/formats.py"}
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel in owners:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if "dzi_files" in node.value or "dzi.xml" in node.value or node.value in ("dzi", "core"):
                    found.append((rel, node.value))
    assert found == [("site/pages.py", "dzi")]  # the collection template's key for a member's DZI URL
