"""Each hook with a throwaway plugin registered inside the test, clashes, listing and documentation."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from imagedirs import add_version, base, make_image_dir, tile_file, tree_bytes
from sites import make_site, write_files

from dzbuild import api, cli, hookspecs, plugins
from dzbuild.default_plugins.resample_opencv import AreaResampler
from dzbuild.default_plugins.storage_files import CopyStorage, HardlinkStorage
from dzbuild.errors import PluginError
from dzbuild.grid import Tile
from dzbuild.hookspecs import hookimpl
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.site.build import build_site
from dzbuild.testing import plugin_registered

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DOCS = ROOT / "docs" / "plugins.md"


registered = plugin_registered  # for the duration of a block, exactly as an entry point would be


def build(image_dir: Path, dest: Path | None = None, **options):
    return build_pyramid(image_dir, dest, options=BuildOptions(**{"jobs": 1, **options}))


# -- register_resamplers ------------------------------------------------------------------------------


class CountingResampler(AreaResampler):
    name = "counting"

    def __init__(self) -> None:
        self.sizes = []

    def parent(self, children, size, tile_size):
        self.sizes.append(tuple(size))
        return super().parent(children, size, tile_size)


def test_hook_register_resamplers(tmp_path):
    resampler = CountingResampler()

    class Plugin:
        @hookimpl
        def register_resamplers(self, register):
            register(resampler)

    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    with registered(Plugin(), "test-counting"):
        report = build(image_dir, resampler="counting")
        add_version(image_dir, spec, 1, [base(spec, 2, 1)], seed=1)
        build(image_dir)  # the published versions' resampler is kept
    assert report.computed == 2 + 9  # level 9 has two tiles, levels 0..8 one each
    assert len(resampler.sizes) == report.computed + 10  # v1 recomputes one path of ten ancestors
    assert resampler.sizes[: report.computed].count((188, 125)) == 1  # level 8, the first single tile
    record = json.loads((image_dir / "dest" / ".dzbuild" / "v1.json").read_text())
    assert record["resampler"] == "counting"


# -- register_storages ----------------------------------------------------------------------------------


class RecordingStorage(CopyStorage):
    name = "recording"

    def __init__(self) -> None:
        self.links, self.writes = [], []

    def write(self, path, data):
        self.writes.append(path)
        super().write(path, data)

    def link(self, target, path):
        self.links.append((target, path))
        super().link(target, path)


def final_path(format_dir: Path, path: str) -> Path:
    """Where a tile linked into the temporary ``.v{n}.partial-*`` folder ends up once published."""
    folder, *rest = Path(path).relative_to(format_dir).parts
    return Path(re.sub(r"^\.(v\d+)\.partial-.*$", r"\1", folder), *rest)


def test_hook_register_storages(tmp_path):
    storage = RecordingStorage()

    class Plugin:
        @hookimpl
        def register_storages(self, register):
            register(storage)

    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    with registered(Plugin(), "test-recording"):
        first = build(image_dir, storage="recording")
        add_version(image_dir, spec, 1, [base(spec, 0, 0)], seed=1)
        second = build(image_dir, storage="recording")
    tiles = [path for path in storage.writes if not path.endswith("dzi.xml")]
    assert len(tiles) == first.computed + second.computed == 11 + 10
    assert len(storage.writes) - len(tiles) == 2  # each version's descriptor is placed by the storage too
    assert len(storage.links) == first.linked + second.linked == 6 + 7
    targets = {final_path(image_dir / "dest" / "dzi", path): Path(target) for target, path in storage.links}
    assert targets[Path("v1/dzi_files/10/0_0.jpg")] == image_dir / "v1" / "0_0.jpg"
    assert targets[Path("v1/dzi_files/10/1_1.jpg")] == image_dir / "v0" / "1_1.jpg"
    assert targets[Path("v1/dzi_files/9/1_0.jpg")] == tile_file(image_dir / "dest", 0, Tile(9, 1, 0))
    assert not any(".partial" in str(t) for t in targets.values())  # links point at final paths


# -- register_formats -------------------------------------------------------------------------------------


class FlatFormat:
    """A made-up layout: every tile in one folder, and a JSON descriptor; level 0 left out."""

    name = "flat"
    descriptor = "info.json"

    def dirs(self, grid):
        return ["tiles"]

    def tile_path(self, grid, tile, ext):
        return None if tile.level == 0 else f"tiles/{tile.level}-{tile.col}-{tile.row}.{ext}"

    def descriptors(self, spec, grid, context):
        return {"info.json": json.dumps({"width": spec.width, "version": context.version}).encode()}

    def viewer_source(self, descriptor_url, spec):
        return None  # no viewer reads this layout


class FormatPlugin:
    @hookimpl
    def register_formats(self, register):
        register(FlatFormat())


def flat_names(grid) -> set[str]:
    return {f"{t.level}-{t.col}-{t.row}.jpg" for level in grid.levels[1:] for t in grid.tiles(level)}


def test_hook_register_formats_as_the_only_format(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    with registered(FormatPlugin(), "test-flat"):
        build(image_dir, formats=("flat",))
        add_version(image_dir, spec, 1, [base(spec, 4, 3)], seed=1)
        build(image_dir, formats=("flat",))
    build(image_dir, tmp_path / "dzi-dest")
    for version in (0, 1):
        folder = image_dir / "dest" / "flat" / f"v{version}"
        assert json.loads((folder / "info.json").read_text()) == {"width": 257, "version": version}
        assert set(os.listdir(folder / "tiles")) == flat_names(spec.grid)
        dzi = tree_bytes(tmp_path / "dzi-dest" / "dzi" / f"v{version}" / "dzi_files")
        for name in flat_names(spec.grid):
            level, col, row = name[:-4].split("-")
            assert (folder / "tiles" / name).read_bytes() == dzi[f"{level}/{col}_{row}.jpg"]


def test_hook_register_formats_beside_dzi(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    with registered(FormatPlugin(), "test-flat"):
        build(image_dir, formats=("dzi", "flat"))
    flat = image_dir / "dest" / "flat" / "v0" / "tiles"
    assert set(os.listdir(flat)) == flat_names(spec.grid)
    assert os.path.samefile(flat / "8-1-0.jpg", tile_file(image_dir / "dest", 0, Tile(8, 1, 0)))
    assert os.path.samefile(flat / "9-4-3.jpg", image_dir / "v0" / "4_3.jpg")


def test_a_format_added_later_is_backfilled_for_published_versions(tmp_path):
    """Link-only formats over immutable files: adding one later equals having built it from the start."""
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    build(image_dir)
    add_version(image_dir, spec, 1, [base(spec, 4, 3)], seed=1)
    build(image_dir)
    with registered(FormatPlugin(), "test-flat"):
        report = build(image_dir, formats=("dzi", "flat"))
        assert report.versions == [] and report.backfilled == ["flat/v0", "flat/v1"]
        assert build(image_dir, formats=("dzi", "flat")).backfilled == []
        build(image_dir, tmp_path / "from-start", formats=("dzi", "flat"))
    for version in (0, 1):
        later = image_dir / "dest" / "flat" / f"v{version}"
        start = tmp_path / "from-start" / "flat" / f"v{version}"
        assert tree_bytes(later) == tree_bytes(start)
        assert os.path.samefile(later / "tiles" / "8-1-0.jpg", tile_file(image_dir / "dest", version, Tile(8, 1, 0)))
    assert [json.loads((image_dir / "dest" / ".dzbuild" / f"v{n}.json").read_text())["formats"] for n in (0, 1)] == [
        ["dzi", "flat"],
        ["dzi", "flat"],
    ]


def test_a_published_format_stays_when_a_later_run_does_not_name_it(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 257, 255, 64)
    with registered(FormatPlugin(), "test-flat"):
        build(image_dir, formats=("dzi", "flat"))
        add_version(image_dir, spec, 1, [base(spec, 4, 3)], seed=1)
        build(image_dir)  # no "flat" asked for: v1 gets it anyway, like v0
    assert set(os.listdir(image_dir / "dest" / "flat")) == {"v0", "v1"}
    assert set(os.listdir(image_dir / "dest" / "flat" / "v1" / "tiles")) == flat_names(spec.grid)


# -- Site hooks -------------------------------------------------------------------------------------------


def site_build(site):
    return build_site(site, progress="quiet")


def test_hook_site_built_fires_once_the_output_is_complete(tmp_path):
    site = make_site(tmp_path, images=("a",))
    seen = []

    class Plugin:
        @hookimpl
        def site_built(self, config, output, summary):
            files = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
            seen.append((config.root, output, summary, files))

    with registered(Plugin(), "test-site-built"):
        report = site_build(site)
        site_build(site)  # a rerun with nothing new is a complete output too
    assert len(seen) == 2
    root, output, summary, files = seen[0]
    assert (root, output) == (site.resolve(), site.resolve() / "_site")
    assert summary == report.summary() and summary["versions_built"] == 1
    assert {"index.html", "a/index.html", "a/dzi/v0/dzi.xml", "_headers", "_redirects"} <= set(files)
    assert seen[1][2]["versions_built"] == 0 and seen[1][3] == files


def test_a_failing_site_hook_is_a_plugin_error_naming_it(tmp_path, capsys):
    site = make_site(tmp_path, images=("a",))

    class Plugin:
        @hookimpl
        def site_built(self, config, output, summary):
            raise OSError("bucket not found")

    with registered(Plugin(), "test-deploy"):
        assert cli.main(["build", str(site), "--progress", "quiet"]) == 5
    message = "plugin 'test-deploy' failed in site_built: OSError: bucket not found"
    assert capsys.readouterr().err == f"dzbuild: error: {message}\n"


def test_hooks_register_template_dirs_and_extra_template_vars(tmp_path):
    """Plugin folders come after the site's own templates and before the built-in ones."""
    site = make_site(tmp_path, 'templates = "theme"\n', {"g/collection.toml": ""}, images=("a", "g/b"))
    theme = tmp_path / "plugin-theme"
    write_files(theme, {
        "index.html": "plugin index",
        "image.html": "{{ deploy_note }}|{{ site.title }}|{{ image.rel }}|{{ template_seen }}",
        "assets/plugin.css": "body {}",
    })
    write_files(site / "theme", {"index.html": "site index {{ deploy_note }}"})

    class Plugin:
        @hookimpl
        def register_template_dirs(self, register):
            register(theme)

        @hookimpl
        def extra_template_vars(self, template, config):
            return {"deploy_note": f"from {config.title}", "template_seen": template, "site": "not dzbuild's"}

    with registered(Plugin(), "test-theme"):
        site_build(site)
    output = site / "_site"
    assert (output / "index.html").read_text() == "site index from Deep Zoom images"  # the site's own wins
    assert (output / "a" / "index.html").read_text() == "from Deep Zoom images|Deep Zoom images|a|image.html"
    assert (output / "_dzbuild" / "assets" / "plugin.css").read_text() == "body {}"
    assert "openseadragon.min.js" in (output / "g" / "index.html").read_text()  # built-in collection.html still serves


def test_a_template_dir_must_be_a_folder(tmp_path):
    class Plugin:
        @hookimpl
        def register_template_dirs(self, register):
            register(tmp_path / "missing")

    with registered(Plugin(), "test-theme"):
        with pytest.raises(PluginError) as caught:
            plugins.registry()
    message = str(caught.value)
    assert message.startswith("plugin 'test-theme' registered PosixPath(") and "missing" in message
    assert message.endswith("in register_template_dirs, which is not a folder")


def test_extra_template_vars_must_return_a_dict(tmp_path):
    site = make_site(tmp_path, images=("a",))

    class Plugin:
        @hookimpl
        def extra_template_vars(self, template, config):
            return ["not", "a", "dict"]

    with registered(Plugin(), "test-vars"):
        with pytest.raises(PluginError) as caught:
            site_build(site)
    assert str(caught.value) == "plugin 'test-vars' returned a list from extra_template_vars, not a dict"


def test_plugins_command_lists_site_hooks(tmp_path, capsys):
    class Plugin:
        @hookimpl
        def register_template_dirs(self, register):
            register(tmp_path)

        @hookimpl
        def site_built(self, config, output, summary):
            pass

    with registered(Plugin(), "test-site"):
        assert cli.main(["plugins"]) == 0
    text = capsys.readouterr().out
    hooks = "hooks: register_template_dirs, site_built"
    assert f"test-site (plugin)\n  {hooks}\n  provides: template_dirs: {tmp_path}\n" in text


# -- Tracing ----------------------------------------------------------------------------------------------


def test_trace_hooks_shows_every_hook_call_of_a_real_build(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 128)
    env = {**os.environ, "DZBUILD_TRACE_HOOKS": "1"}
    command = [sys.executable, "-m", "dzbuild", "pyramid", str(image_dir), "--jobs", "1"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for hook, plugin in [
        ("register_resamplers", "dzbuild.default_plugins.resample_opencv"),
        ("register_storages", "dzbuild.default_plugins.storage_files"),
        ("register_formats", "dzbuild.default_plugins.format_dzi"),
        ("register_template_dirs", "dzbuild.default_plugins.site_templates"),
    ]:
        call = f"  {hook} [hook]\n      register: <register for plugin '{plugin}'>\n  finish {hook} --> [] [hook]\n"
        assert call in result.stderr
    other, _, _ = make_image_dir(tmp_path / "other", 300, 200, 128)
    untraced = subprocess.run([*command[:4], str(other), "--jobs", "1"], capture_output=True, text=True, timeout=120)
    assert untraced.returncode == 0 and "[hook]" not in untraced.stderr


# -- Contract errors ------------------------------------------------------------------------------------


def test_name_clash_names_both_plugins_and_the_hook(tmp_path):
    class Plugin:
        @hookimpl
        def register_storages(self, register):
            register(CopyStorage())

    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    with registered(Plugin(), "test-clash"):
        with pytest.raises(PluginError) as caught:
            build(image_dir)
    message = str(caught.value)
    assert "'test-clash'" in message and "'dzbuild.default_plugins.storage_files'" in message
    assert "register_storages" in message and "'copy'" in message
    assert not (image_dir / "dest" / "dzi").exists()


def test_incomplete_object_names_the_plugin_the_hook_and_what_is_missing():
    class Plugin:
        @hookimpl
        def register_resamplers(self, register):
            register(type("Half", (), {"name": "half"})())

    with registered(Plugin(), "test-incomplete"):
        with pytest.raises(PluginError) as caught:
            plugins.registry()
    assert "'test-incomplete' registered a resampler in register_resamplers without parent" in str(caught.value)


def test_an_incomplete_plugin_stops_the_command_with_exit_5_and_one_line(tmp_path, capsys):
    class Plugin:
        @hookimpl
        def register_storages(self, register):
            register(type("NoLink", (), {"name": "nolink", "write": lambda self, path, data: None})())

    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    with registered(Plugin(), "test-nolink"):
        assert cli.main(["pyramid", str(image_dir), "--storage", "nolink"]) == 5
    message = "plugin 'test-nolink' registered a storage in register_storages without link"
    assert capsys.readouterr().err == f"dzbuild: error: {message}\n"
    assert not (image_dir / "dest" / "dzi").exists()


def complete_object(protocol):
    """An object with every member of ``protocol``: methods that do nothing, ``name``-like strings."""
    members = {}
    for member in api.protocol_members(protocol):
        members[member] = (lambda self, *a: None) if callable(vars(protocol).get(member)) else f"test-{member}"
    return members


@pytest.mark.parametrize("kind", sorted(plugins.KINDS))
def test_every_protocol_member_is_required(kind):
    hook, protocol = plugins.KINDS[kind]
    members = complete_object(protocol)
    for missing in members:
        partial = type("Partial", (), {k: v for k, v in members.items() if k != missing})
        plugin = type("Plugin", (), {hook: hookimpl(lambda self, register, cls=partial: register(cls()))})()
        with registered(plugin, "test-partial"):
            with pytest.raises(PluginError) as caught:
                plugins.registry()
        assert str(caught.value) == f"plugin 'test-partial' registered a {kind} in {hook} without {missing}"
    whole = type("Whole", (), members)
    plugin = type("Plugin", (), {hook: hookimpl(lambda self, register: register(whole()))})()
    with registered(plugin, "test-whole"):
        assert plugins.registry().get(kind, "test-name").__class__ is whole


@pytest.mark.parametrize(
    ("kind", "change", "problem"),
    [
        ("storage", {"write": "not a method"}, "whose write cannot be called"),
        ("storage", {"link_into": 3}, "whose link_into cannot be called (LinksInto)"),
        ("format", {"check": None}, "whose check cannot be called (ChecksBuilds)"),
        (
            "format",
            {"manifest": "", "manifest_document": lambda self, *a: b""},
            "whose manifest is not a non-empty string (HasManifest)",
        ),
        ("format", {"name": ""}, "with no name"),
        ("resampler", {"name": 7}, "with no name"),
        ("format", {"descriptor": None}, "whose descriptor is not a non-empty string"),
    ],
)
def test_wrong_members_are_refused(kind, change, problem):
    hook, protocol = plugins.KINDS[kind]
    wrong = type("Wrong", (), {**complete_object(protocol), **change})
    plugin = type("Plugin", (), {hook: hookimpl(lambda self, register: register(wrong()))})()
    with registered(plugin, "test-wrong"):
        with pytest.raises(PluginError) as caught:
            plugins.registry()
    assert str(caught.value) == f"plugin 'test-wrong' registered a {kind} in {hook} {problem}"


def capability_cases():
    """(kind, capability) for every optional capability of every registered kind."""
    return [
        (kind, optional)
        for kind, (_, protocol) in sorted(plugins.KINDS.items())
        for optional in api.CAPABILITIES[protocol]
    ]


def registering(hook: str, cls):
    return type("Plugin", (), {hook: hookimpl(lambda self, register: register(cls()))})()


@pytest.mark.parametrize(("kind", "optional"), capability_cases(), ids=lambda case: getattr(case, "__name__", case))
def test_registration_refuses_part_of_a_capability(kind, optional):
    """An object with some members of a capability must have all of them, each of the right sort."""
    hook, protocol = plugins.KINDS[kind]
    members = complete_object(optional)
    whole = type("Whole", (), {**complete_object(protocol), **members})
    with registered(registering(hook, whole), "test-whole"):
        assert plugins.capability(plugins.registry().get(kind, "test-name"), optional) is not None
    for kept in members:
        partial = type("Partial", (), {**complete_object(protocol), kept: members[kept]})
        missing = [member for member in members if member != kept]
        with registered(registering(hook, partial), "test-partial"):
            if not missing:  # a one-member capability cannot be partial: an uncallable method is refused instead
                assert plugins.capability(plugins.registry().get(kind, "test-name"), optional) is not None
                continue
            with pytest.raises(PluginError) as caught:
                plugins.registry()
        expected = f"with {kept} but without {', '.join(missing)} ({optional.__name__})"
        assert str(caught.value) == f"plugin 'test-partial' registered a {kind} in {hook} {expected}"


def test_a_capability_declared_by_subclassing_must_still_be_implemented():
    """Subclassing a protocol inherits its empty stubs; they do not count as the member."""

    class Listing(FlatFormat, api.HasManifest):
        manifest = "manifest.json"

    with registered(registering("register_formats", Listing), "test-stub"):
        with pytest.raises(PluginError) as caught:
            plugins.registry()
    assert str(caught.value) == (
        "plugin 'test-stub' registered a format in register_formats"
        " with manifest but without manifest_document (HasManifest)"
    )


def test_capabilities_are_asked_for_through_one_helper():
    assert plugins.capability(CopyStorage(), api.LinksInto) is None  # a plain copy links nothing
    assert plugins.capability(HardlinkStorage(), api.LinksInto) is not None
    assert plugins.capability(FlatFormat(), api.ChecksBuilds) is None
    with pytest.raises(ValueError):
        plugins.capability(FlatFormat(), api.OutputFormat)  # a kind's own protocol is required, not optional


class Provider:
    """An executor provider whose executors are made by ``make``."""

    name = "test-exec"

    def __init__(self, make) -> None:
        self.make = make

    def open(self, jobs, address):
        return self.make()


class ExecutorPlugin:
    def __init__(self, make) -> None:
        self.make = make

    @hookimpl
    def register_executors(self, register):
        register(Provider(self.make))


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"run": None}, "whose run cannot be called"),
        ({"check_paths": "yes"}, "whose check_paths cannot be called (ChecksPaths)"),
    ],
)
def test_an_executor_is_checked_when_it_opens(tmp_path, capsys, extra, problem):
    from dzbuild.run.inline import InlineExecutor

    broken = type("Broken", (InlineExecutor,), extra)
    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    with registered(ExecutorPlugin(broken), "test-exec-plugin"):
        assert cli.main(["pyramid", str(image_dir), "--executor", "test-exec"]) == 5
    message = (
        "plugin 'test-exec-plugin' registered an executor 'test-exec' in register_executors"
        f" whose open() returned an object {problem}"
    )
    assert capsys.readouterr().err == f"dzbuild: error: {message}\n"
    assert not (image_dir / "dest" / "dzi").exists()


def test_checking_an_executor_does_not_start_it():
    """Presence is read without calling properties: a cluster that connects on first use stays idle."""
    from dzbuild.run.inline import InlineExecutor

    class Lazy(InlineExecutor):
        @property
        def jobs(self):
            raise AssertionError("checked by calling jobs")

        @property
        def workers(self):
            return None

    with registered(ExecutorPlugin(Lazy), "test-lazy"):
        executor = plugins.registry().open_executor("test-exec", None, None)
    assert isinstance(executor, Lazy)


def test_a_failing_hook_names_the_plugin_and_the_hook():
    class Plugin:
        @hookimpl
        def register_formats(self, register):
            raise KeyError("boom")

    with registered(Plugin(), "test-broken"):
        with pytest.raises(PluginError) as caught:
            plugins.registry()
    assert str(caught.value) == "plugin 'test-broken' failed in register_formats: KeyError: 'boom'"


def test_unknown_name_lists_what_is_installed(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    with pytest.raises(PluginError) as caught:
        build(image_dir, storage="ftp")
    assert "no storage named 'ftp' is installed (installed: copy, hardlink, symlink)" in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--storage", "hardlinks"], "no storage named 'hardlinks' is installed (installed: copy, hardlink, symlink);"
         " did you mean 'hardlink'?"),
        (["--storage", "ftp"], "no storage named 'ftp' is installed (installed: copy, hardlink, symlink)"),
        (["--resampler", "areas"], "no resampler named 'areas' is installed (installed: area, dct);"
         " did you mean 'area'?"),
    ],
    ids=["close", "far", "resampler"],
)
def test_an_unknown_name_is_a_usage_error_suggesting_the_nearest(tmp_path, capsys, args, message):
    """Whoever typed the name sees it: exit 2, before any tile work, the nearest installed name offered."""
    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    assert cli.main(["pyramid", str(image_dir), *args]) == 2
    assert capsys.readouterr().err == f"dzbuild: error: {message}\n"
    assert not (image_dir / "dest").exists()


def test_plugins_command_lists_builtins_and_hooks(capsys):
    assert cli.main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["dzbuild.default_plugins.resample_opencv"]["hooks"] == ["register_resamplers"]
    assert rows["dzbuild.default_plugins.resample_opencv"]["resampler"] == ["area", "dct"]
    assert rows["dzbuild.default_plugins.storage_files"]["storage"] == ["copy", "hardlink", "symlink"]
    assert rows["dzbuild.default_plugins.format_dzi"]["format"] == ["dzi"]
    assert all(row["builtin"] for row in rows.values() if row["name"] in plugins.DEFAULT_PLUGINS)
    assert cli.main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert "dzbuild.default_plugins.storage_files (built-in)" in text and "hooks: register_storages" in text


def test_plugins_command_shows_a_registered_plugin(capsys):
    with registered(FormatPlugin(), "test-flat"):
        assert cli.main(["plugins"]) == 0
    assert "test-flat (plugin)\n  hooks: register_formats\n  provides: format: flat" in capsys.readouterr().out


# -- Documentation ------------------------------------------------------------------------------------


def hook_specs():
    return [(name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "dzbuild_spec")]


def registration_hooks():
    return [name for name, _ in hook_specs() if name.startswith("register_")]


@pytest.mark.parametrize("name", list(registration_hooks()))
def test_every_registration_hook_is_used_by_a_builtin(name):
    """dzbuild registers its own defaults through the hooks it offers; event hooks have no default."""
    manager = plugins.get_plugin_manager()
    implementers = {manager.get_name(impl.plugin) for impl in getattr(manager.hook, name).get_hookimpls()}
    assert implementers & set(plugins.DEFAULT_PLUGINS)
    assert name in {hook for hook, _ in plugins.KINDS.values()} | {plugins.TEMPLATE_HOOK}


def plugin_docs() -> str:
    return PLUGIN_DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [name for name, _ in hook_specs()])
def test_every_hook_is_documented_with_its_signature(name):
    fn = getattr(hookspecs, name)
    params = list(inspect.signature(fn).parameters)
    doc = inspect.getdoc(fn) or ""
    assert doc.splitlines()[0].endswith("."), "a one-line summary first"
    for param in params:
        assert f":param {param}:" in doc
    assert f"{name}({', '.join(params)})" in plugin_docs()


def signature_text(fn) -> str:
    """``self, grid: Grid) -> list[str]`` as written in the source (annotations are strings there)."""
    signature = inspect.signature(fn)
    params = ", ".join(
        p.name if p.annotation is p.empty else f"{p.name}: {p.annotation}" for p in signature.parameters.values()
    )
    returns = "" if signature.return_annotation is signature.empty else f" -> {signature.return_annotation}"
    return f"{params}){returns}"


def reference_script():
    """``docs/plugin_reference.py``, which writes the guide's reference from the contract."""
    spec = importlib.util.spec_from_file_location("plugin_reference", ROOT / "docs" / "plugin_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_reference_is_generated_from_the_contract():
    script = reference_script()
    text = plugin_docs()
    assert text.count(script.MARK) == 1, "the guide marks where its generated reference starts"
    assert text.split(script.MARK, 1)[1] == script.render().split(script.MARK, 1)[1], (
        "docs/plugins.md is stale: run python docs/plugin_reference.py"
    )


def test_the_generated_reference_covers_every_hook_protocol_and_name():
    reference = reference_script().render()
    for name, fn in hook_specs():
        assert f"### `{name}({', '.join(inspect.signature(fn).parameters)})`" in reference
    protocols = set(api.CAPABILITIES) | {cap for caps in api.CAPABILITIES.values() for cap in caps}
    for protocol in protocols | {api.Batch}:
        assert f"\nclass {protocol.__name__}(Protocol):\n" in reference
        for member in api.protocol_members(protocol):
            assert re.search(rf"^    (def {member}\(|{member}: )", reference, re.MULTILINE), (protocol, member)
    for name in api.__all__:
        assert f"`{name}`" in reference, name


def test_a_stale_reference_is_noticed(tmp_path, monkeypatch):
    """The generator rewrites only what follows the mark: the walk-through prose stays as written."""
    script = reference_script()
    guide = tmp_path / "plugins.md"
    guide.write_text(f"# Prose\n\nkept\n\n{script.MARK}\nold reference\n", encoding="utf-8")
    monkeypatch.setattr(script, "GUIDE", guide)
    assert script.main() == 0
    assert guide.read_text(encoding="utf-8") == "# Prose\n\nkept\n\n" + script.render()
