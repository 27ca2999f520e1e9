"""Third-party plugins written only against ``dzbuild.api``, installed as a distribution, driving ``dzbuild build``.

``tests/dzbuild-test-plugins`` is a real distribution: pip builds it and installs it into a
temporary folder that the subprocesses get on ``PYTHONPATH``, so dzbuild finds it through the
``dzbuild`` entry-point group by pluggy's own ``load_setuptools_entrypoints`` (in-process tests
skip entry points), and the test's virtual environment is never changed.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sites import make_site

DIST = Path(__file__).resolve().parent / "dzbuild-test-plugins"
MODULE = "dzbuild_test_plugins"
PARTIAL = re.compile(r"^\.(v\d+)\.partial-.*$")  # a version folder before its rename into place


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """An environment whose Python finds the installed test distribution."""
    work = tmp_path_factory.mktemp("dist")
    source = shutil.copytree(DIST, work / "source")  # the build leaves build/ and *.egg-info beside the sources
    target = work / "site-packages"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    assert (target / f"{MODULE}-0.1.0.dist-info" / "entry_points.txt").is_file()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))}
    env.pop("DZBUILD_TRACE_HOOKS", None)
    return env


def dzbuild(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dzbuild", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def final(path: str) -> Path:
    """Where a file placed in a temporary version folder is once the folder is renamed into place."""
    return Path(*(PARTIAL.sub(r"\1", part) for part in Path(path).parts))


ROOT = DIST.parent.parent


def plugin_modules() -> list[Path]:
    """Every module a plugin ships: under ``plugins/`` (found by globbing, so a new plugin is
    covered too), dzbuild's built-in plugins and the test distribution. A plugin's own tests
    drive dzbuild as a user does and are not part of what it ships."""
    shipped = [path for path in (ROOT / "plugins").rglob("*.py") if not {"tests", "build"} & set(path.parts)]
    return sorted(shipped) + sorted((ROOT / "dzbuild" / "default_plugins").glob("*.py")) + [DIST / f"{MODULE}.py"]


def dzbuild_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level:  # "from dzbuild import api" imports dzbuild.api
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            imported |= set(names) if node.module == "dzbuild" else {node.module}
    return {name for name in imported if name.split(".")[0] == "dzbuild"}


def test_the_plugins_import_nothing_of_dzbuild_but_its_api():
    modules = plugin_modules()
    folders = {path.parent.name for path in modules}
    assert folders >= {"dzbuild-iiif", "dzbuild-zoomify", "dzbuild-dask", "default_plugins", DIST.name}
    beyond = {str(path.relative_to(ROOT)): dzbuild_imports(path) - {"dzbuild.api"} for path in modules}
    assert {name: imports for name, imports in beyond.items() if imports} == {}
    assert all(dzbuild_imports(path) == {"dzbuild.api"} for path in modules if path.name != "__init__.py")


def test_the_import_check_sees_an_internal_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from dzbuild.api import hookimpl\nimport dzbuild.run.forkpool\nfrom dzbuild import api, errors")
    assert dzbuild_imports(sneaky) == {"dzbuild.api", "dzbuild.run.forkpool", "dzbuild.errors"}


def test_an_installed_distribution_is_listed_with_its_version_and_what_it_provides(plugin_env):
    result = dzbuild(plugin_env, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["test_plugins"] == {
        "name": "test_plugins",
        "version": "0.1.0",
        "builtin": False,
        "hooks": ["register_formats", "register_storages"],
        "storage": ["recording"],
        "format": ["dzijson"],
    }


SITE_CONFIG = 'storage = "recording"\nformats = ["dzi", "dzijson"]\n'


@pytest.fixture(scope="module")
def built_site(plugin_env, tmp_path_factory):
    """A site with two images and a collection, built by the CLI with the plugins' storage and format."""
    root = tmp_path_factory.mktemp("site")
    collection = {"gallery/collection.toml": 'title = "Gallery"\n'}
    site = make_site(root, SITE_CONFIG, collection, ("a", "gallery/x", "gallery/y"))
    log = root / "placements.jsonl"
    result = dzbuild({**plugin_env, "DZBUILD_RECORDER_LOG": str(log)}, "build", str(site), "--json")
    assert result.returncode == 0, result.stderr
    placed = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return site, json.loads(result.stdout), placed


def published_files(tree: Path) -> list[Path]:
    """Every file of the published versions in the cache: format folders and collection versions, no state."""
    return [p for p in files_under(tree) if not any(part.startswith(".") for part in p.relative_to(tree).parts)]


def is_descriptor(path: Path) -> bool:
    return path.name in ("dzi.xml", "image.json") or path.suffix == ".dzc"


def test_every_published_tile_went_through_the_storage(built_site):
    site, summary, placed = built_site
    tree = site / ".dzbuild" / "tree"
    paths = [final(entry["path"]) for entry in placed]
    assert len(paths) == len(set(paths))  # each file placed once
    in_cache = {p for p in paths if tree in p.parents}  # the rest: the output mirror (below)
    tiles = [p for p in published_files(tree) if not is_descriptor(p)]
    assert set(tiles) == {p for p in in_cache if not is_descriptor(p)}
    assert len(tiles) == 3 * 2 * 16 + 8 + 2  # 3 images x 2 formats; the collection: 1 tile a level, 2 at level 8
    assert {p.relative_to(tree).parts[1] for p in in_cache if p.parts[-4] != "gallery"} >= {"dzi", "dzijson"}
    written = [final(e["path"]) for e in placed if e["op"] == "write"]
    assert summary["tiles_computed"] == len([p for p in written if not is_descriptor(p)])
    links = [entry for entry in placed if entry["op"] == "link"]
    assert links and all(Path(e["target"]).is_file() and not Path(e["target"]).is_symlink() for e in links)


def test_descriptors_go_through_the_storage(built_site):
    site, _, placed = built_site
    descriptors = [p for p in published_files(site / ".dzbuild" / "tree") if is_descriptor(p)]
    assert len(descriptors) == 3 * 2 + 1
    assert set(descriptors) <= {final(entry["path"]) for entry in placed}


def mirrored_files(output: Path) -> list[Path]:
    """The output's version files: everything but OpenSeadragon, pages and the control files."""
    return [p for p in files_under(output) if p.relative_to(output).parts[0] != "_dzbuild" and p.suffix != ".html"
            and p.parent != output]


def test_the_output_serves_the_files_the_cache_published(built_site):
    """The output's version folders hold the bytes of the cache's, file for file (copies: the storage copies)."""
    site, _, _ = built_site
    output, tree = site / "_site", site / ".dzbuild" / "tree"
    mirrored, published = mirrored_files(output), published_files(tree)
    assert [p.relative_to(output) for p in mirrored] == [p.relative_to(tree) for p in published]
    assert all(p.read_bytes() == (tree / p.relative_to(output)).read_bytes() for p in mirrored)
    cache_inodes = {os.stat(p).st_ino for p in published}
    assert not any(os.stat(p).st_ino in cache_inodes for p in mirrored)  # placed by the copying storage


def test_the_output_mirror_is_placed_through_the_storage(built_site):
    site, _, placed = built_site
    paths = {final(entry["path"]) for entry in placed}
    mirrored = mirrored_files(site / "_site")
    assert mirrored and [p for p in mirrored if p not in paths] == []


def test_the_plugin_format_is_published_beside_dzi_with_the_same_tiles(built_site):
    site, _, _ = built_site
    for rel in ("a", "gallery/x"):
        folder = site / "_site" / rel
        image = json.loads((folder / "dzijson" / "v0" / "image.json").read_text())["Image"]
        assert image["Size"] == {"Width": "300", "Height": "200"} and image["Url"] == "tiles/"
        dzi_tiles = folder / "dzi" / "v0" / "dzi_files"
        ours = folder / "dzijson" / "v0" / "tiles"
        names = [p.relative_to(dzi_tiles) for p in files_under(dzi_tiles)]
        assert names == [p.relative_to(ours) for p in files_under(ours)] and len(names) == 16
        assert all((ours / n).read_bytes() == (dzi_tiles / n).read_bytes() for n in names)


def test_a_rerun_places_nothing(built_site, plugin_env, tmp_path):
    site, _, _ = built_site
    log = tmp_path / "again.jsonl"
    result = dzbuild({**plugin_env, "DZBUILD_RECORDER_LOG": str(log)}, "build", str(site), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["versions_built"] == 0 and not log.exists()


# -- The top-level Python API ---------------------------------------------------------------------------

README = DIST.parent.parent / "README.md"
DOCS = README.parent / "docs"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def example_pages() -> list[Path]:
    """The README and every docs page whose ```python blocks run as they are (the plugin guide has its own test)."""
    return [README, *sorted(page for page in DOCS.glob("*.md") if page.name != "plugins.md")]


def test_the_readme_python_examples_run(tmp_path, monkeypatch):
    """Every ```python block of the README and the docs, in order, in an empty folder per page; each asserts."""
    ran = {}
    for page in example_pages():
        folder = tmp_path / page.stem
        folder.mkdir()
        monkeypatch.chdir(folder)
        blocks = python_blocks(page.read_text(encoding="utf-8"))
        for number, block in enumerate(blocks):
            exec(compile(block, f"{page.name} python block {number}", "exec"), {"__name__": f"{page.stem}_{number}"})
        ran[page.name] = len(blocks)
    assert ran["README.md"] >= 1 and ran["api.md"] >= 5
    api = tmp_path / "api"
    assert check_dest_clean(api / "image1" / "dest") and (api / "site" / "_site" / "index.html").is_file()


def check_dest_clean(dest: Path) -> bool:
    from dzbuild.maintain.check import check_dest

    return check_dest(dest, deep=True) == []


def test_the_top_level_names_are_documented_and_cheap_to_import():
    import dzbuild

    for name in ("build_pyramid", "build_collection", "build_site", "check", "vacuum", "BuildOptions"):
        doc = getattr(dzbuild, name).__doc__ or ""
        assert len(doc.split()) >= 10, f"{name} says what it does and returns"
    assert dzbuild.hookimpl is __import__("dzbuild.api", fromlist=["hookimpl"]).hookimpl
    assert set(dzbuild.__all__) <= set(dir(dzbuild))
    script = "import sys, dzbuild; print(sorted(m for m in ('typing', 'pluggy', 'cv2', 'jinja2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"
    with pytest.raises(AttributeError):
        dzbuild.not_a_name  # noqa: B018


# -- The plugin guide -----------------------------------------------------------------------------------

GUIDE = README.parent / "docs" / "plugins.md"


def test_the_plugin_guide_examples_run(tmp_path, monkeypatch):
    """docs/plugins.md: blocks starting ``# NAME.py`` are written as modules, the others run in order."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    prose = GUIDE.read_text(encoding="utf-8").split("<!-- The reference below is generated", 1)[0]
    blocks = python_blocks(prose)  # the generated reference shows the protocols, not examples
    modules = [block for block in blocks if re.match(r"# \w+\.py\n", block)]
    assert len(modules) == 3 and len(blocks) == 7
    try:
        for number, block in enumerate(blocks):
            if block in modules:
                (tmp_path / block.split("\n", 1)[0][2:]).write_text(block, encoding="utf-8")
            else:
                exec(compile(block, f"docs/plugins.md python block {number}", "exec"), {"__name__": f"guide_{number}"})
    finally:
        for name in ("dzbuild_dzijson", "dzbuild_readonly", "dzbuild_sitemap"):
            sys.modules.pop(name, None)


def test_a_plugin_that_cannot_be_imported_is_one_line_and_exit_5(tmp_path):
    """An entry point naming a missing module: the installed distribution is broken, not dzbuild."""
    dist_info = tmp_path / "dzbuild_broken-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: dzbuild-broken\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[dzbuild]\nbroken = dzbuild_no_such_module\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = dzbuild(env, "plugins")
    assert result.returncode == 5 and result.stdout == ""
    assert result.stderr == (
        "dzbuild: error: an installed plugin of the 'dzbuild' entry-point group cannot be loaded:"
        " ModuleNotFoundError: No module named 'dzbuild_no_such_module'\n"
    )


def test_openseadragon_opens_the_plugin_format_from_its_viewer_source(tmp_path, monkeypatch):
    """The DZI-JSON format's ``viewer_source`` is what OpenSeadragon needs: every tile it asks for exists."""
    from dzbuild import BuildOptions, build_pyramid
    from dzbuild.pyramid.spec import load_spec
    from dzbuild.testing import make_image_folder, plugin_registered
    from dzbuild.testing.viewer import OpenSeadragonCheck, ViewerUnavailable

    monkeypatch.syspath_prepend(str(DIST))
    module = __import__(MODULE)
    folder = make_image_folder(tmp_path / "photo", 1001, 750, 256)
    with plugin_registered(module, "test_plugins"):
        build_pyramid(folder, options=BuildOptions(jobs=1, formats=("dzi", "dzijson")))
    fmt = module.DziJsonFormat()
    source = fmt.viewer_source(f"photo/dest/dzijson/v0/{fmt.descriptor}", load_spec(folder))
    try:
        with OpenSeadragonCheck(tmp_path) as viewer:
            report = viewer.open(source)
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    finally:
        sys.modules.pop(MODULE, None)
    assert report.errors == [] and report.failed == [] and report.tile_urls
    assert all("/dzijson/v0/tiles/" in url and viewer.local_path(url).is_file() for url in report.tile_urls)
    assert report.home_ink > 0.3 and report.deep_ink > 0.3  # drawn, not blank


# -- The contract's version -----------------------------------------------------------------------------


def plugin_pyprojects() -> list[Path]:
    return sorted((ROOT / "plugins").glob("*/pyproject.toml")) + [DIST / "pyproject.toml"]


def test_every_plugin_distribution_bounds_the_dzbuild_it_runs_on():
    from packaging.requirements import Requirement
    from packaging.version import Version

    import dzbuild

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    assert len(plugin_pyprojects()) >= 4
    for path in plugin_pyprojects():
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        requirements = [Requirement(text) for text in project["dependencies"]]
        (dzbuild_req,) = [req for req in requirements if req.name == "dzbuild"]
        operators = {spec.operator for spec in dzbuild_req.specifier}
        assert operators == {">=", "<"}, f"{path}: dzbuild>=X,<Y, got {dzbuild_req}"
        assert Version(dzbuild.__version__) in dzbuild_req.specifier, f"{path} excludes this dzbuild"


FUTURE_PLUGIN = '''
from dzbuild.api import hookimpl

dzbuild_api = "{version}"


class FutureFormat:
    name = "future"
    descriptor = "future.json"

    def dirs(self, grid):
        return []

    def tile_path(self, grid, tile, ext):
        return f"{{tile.level}}_{{tile.col}}_{{tile.row}}.{{ext}}"

    def descriptors(self, spec, grid, context):
        return {{self.descriptor: b"{{}}"}}

    def viewer_source(self, descriptor_url, spec):
        return None


@hookimpl
def register_formats(register):
    register(FutureFormat())
'''


def install_throwaway_plugin(folder: Path, version: str) -> dict:
    """A distribution whose module states ``dzbuild_api = version``, found through its entry point."""
    (folder / "dzbuild_future.py").write_text(FUTURE_PLUGIN.format(version=version), encoding="utf-8")
    dist_info = folder / "dzbuild_future-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: dzbuild-future\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[dzbuild]\nfuture = dzbuild_future\n")
    return {**os.environ, "PYTHONPATH": str(folder)}


@pytest.mark.parametrize("version", ["2.0", "1.9"])
def test_a_plugin_written_for_a_newer_contract_is_refused_in_one_line(tmp_path, version):
    from dzbuild.api import API_VERSION
    from dzbuild.testing import make_image_folder

    assert API_VERSION == "1.1"  # this test's newer versions are newer than it
    env = install_throwaway_plugin(tmp_path, version)
    make_image_folder(tmp_path / "photo", 300, 200, 128)
    result = dzbuild(env, "pyramid", str(tmp_path / "photo"), "--format", "dzi", "--format", "future")
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == (
        f"dzbuild: error: plugin 'future' needs dzbuild plugin API {version}, but this dzbuild provides API 1.1\n"
    )
    assert not (tmp_path / "photo" / "dest").exists()


def test_a_plugin_written_for_this_contract_builds(tmp_path):
    from dzbuild.testing import make_image_folder

    env = install_throwaway_plugin(tmp_path, "1.0")
    make_image_folder(tmp_path / "photo", 300, 200, 128)
    result = dzbuild(env, "pyramid", str(tmp_path / "photo"), "--format", "dzi", "--format", "future")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "photo" / "dest" / "future" / "v0" / "future.json").read_bytes() == b"{}"


@pytest.mark.parametrize(
    ("stated", "problem"),
    [
        ("1.0", None),
        ("1.1", None),
        ("0.9", "needs dzbuild plugin API 0.9, but this dzbuild provides API 1.1"),
        ("1.2", "needs dzbuild plugin API 1.2, but this dzbuild provides API 1.1"),
        ("1", 'states dzbuild_api = \'1\', which is not a "MAJOR.MINOR" string such as "1.1"'),
        (1.0, 'states dzbuild_api = 1.0, which is not a "MAJOR.MINOR" string such as "1.1"'),
    ],
)
def test_the_major_version_must_match_and_the_minor_be_at_most_this_one(stated, problem):
    from dzbuild import plugins
    from dzbuild.errors import PluginError
    from dzbuild.testing import plugin_registered

    module = type(sys)("dzbuild_stating")
    module.dzbuild_api = stated
    with plugin_registered(module, "stating"):
        if problem is None:
            assert "dzi" in plugins.registry().names("format")
        else:
            with pytest.raises(PluginError) as caught:
                plugins.registry()
            assert str(caught.value) == f"plugin 'stating' {problem}"
