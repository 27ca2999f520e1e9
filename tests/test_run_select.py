"""Choosing an executor: built-ins through ``register_executors``, ``--executor``, dzbuild.toml, mistakes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from imagedirs import make_image_dir, tree_bytes
from sites import add_image, fake_openseadragon, write_files

from dzbuild import cli
from dzbuild.errors import ConfigError, PluginError
from dzbuild.hookspecs import hookimpl
from dzbuild.plugins import registry
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.run.inline import InlineExecutor
from dzbuild.run.select import default_executor, open_executor, parse_executor
from dzbuild.site.config import load_config
from dzbuild.testing import plugin_registered


def test_names_and_addresses_are_parsed():
    assert parse_executor("fork") == ("fork", None)
    assert parse_executor("dask://10.0.0.1:8786") == ("dask", "10.0.0.1:8786")
    assert parse_executor("dask://tls://head:8786") == ("dask", "tls://head:8786")
    for bad in ("", "://host", "dask://"):
        with pytest.raises(ConfigError, match="NAME or NAME://ADDRESS"):
            parse_executor(bad)


def test_the_default_is_the_fork_pool_or_this_process_for_one_job():
    assert (default_executor(None), default_executor(4), default_executor(1)) == ("fork", "fork", "inline")
    assert registry().names("executor") == ["fork", "inline"]
    with open_executor(None, 1) as executor:
        assert isinstance(executor, InlineExecutor)
    with open_executor("fork", 3) as executor:
        assert executor.jobs == 3


def test_the_inline_executor_runs_each_unit_in_this_thread_when_asked():
    seen = []
    with open_executor("inline", 8) as executor:
        batch = executor.start(lambda n: seen.append(threading.current_thread().name) or n * 2, [1, 2, 3])
        assert seen == []  # nothing runs before results(): cancel has nothing to stop
        assert (executor.jobs, batch.results(), seen) == (1, [2, 4, 6], ["MainThread"] * 3)
        cancelled = executor.start(seen.append, [9])
        cancelled.cancel()
        assert cancelled.results() == [] and 9 not in seen


@pytest.mark.parametrize("executor", ["inline", "fork"])
def test_every_built_in_executor_gives_the_same_bytes(tmp_path, executor):
    image_dir, _, _ = make_image_dir(tmp_path, 1000, 700, 128)
    report = build_pyramid(image_dir, tmp_path / executor, BuildOptions(executor=executor, jobs=2))
    assert (report.summary()["executor"], report.summary()["workers"]) == (executor, 1 if executor == "inline" else 2)
    build_pyramid(image_dir, tmp_path / "one", BuildOptions(jobs=1))
    assert tree_bytes(tmp_path / executor / "dzi") == tree_bytes(tmp_path / "one" / "dzi")


def test_mistakes_are_one_line_errors(tmp_path, capsys):
    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 128)
    assert cli.main(["pyramid", str(image_dir), "--executor", "fork://host:1"]) == 2
    assert "the fork executor runs on this machine and takes no address" in capsys.readouterr().err
    assert cli.main(["pyramid", str(image_dir), "--executor", "slurm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no executor named 'slurm' is installed (installed: fork, inline)" in err
    assert cli.main(["pyramid", str(image_dir), "--executor", "forks"]) == 2
    assert capsys.readouterr().err.endswith("(installed: fork, inline); did you mean 'fork'?\n")
    assert not (image_dir / "dest" / "dzi").exists()


class Recorder:
    """A throwaway executor provider: runs units inline and remembers what it was opened with."""

    name = "recorder"

    def __init__(self) -> None:
        self.opened = []

    def open(self, jobs, address):
        self.opened.append((jobs, address))
        return InlineExecutor()


def test_hook_register_executors(tmp_path, capsys):
    provider = Recorder()

    class Plugin:
        @hookimpl
        def register_executors(self, register):
            register(provider)

    image_dir, _, _ = make_image_dir(tmp_path, 300, 200, 128)
    with plugin_registered(Plugin(), "test-recorder"):
        assert cli.main(["pyramid", str(image_dir), "--executor", "recorder://queue-7", "-j", "3", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert cli.main(["plugins"]) == 0
        assert "provides: executor: recorder" in capsys.readouterr().out
    assert provider.opened == [(3, "queue-7")]
    assert (summary["executor"], summary["workers"], summary["versions_built"]) == ("recorder://queue-7", 1, [0])


def test_a_site_names_its_executor_in_dzbuild_toml(tmp_path, capsys):
    provider = Recorder()

    class Plugin:
        @hookimpl
        def register_executors(self, register):
            register(provider)

    osd = fake_openseadragon(tmp_path)
    site = tmp_path / "site"
    write_files(site, {"dzbuild.toml": f'executor = "recorder"\n[viewer]\nopenseadragon_dir = "{osd}"\n'})
    add_image(site, "a")
    with plugin_registered(Plugin(), "test-recorder"):
        assert cli.main(["build", str(site), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert cli.main(["build", str(site), "--rebuild", "--executor", "inline", "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
    assert provider.opened == [(None, None)]  # the command line wins over dzbuild.toml
    assert (summary["executor"], summary["workers"], again["executor"]) == ("recorder", 1, "inline")
    write_files(site, {"dzbuild.toml": 'executor = "dask://"\n'})
    with pytest.raises(ConfigError, match="'executor': an executor is NAME or NAME://ADDRESS"):
        load_config(site)


def test_a_provider_without_open_is_refused_naming_the_plugin():
    class Broken:
        name = "broken"

    class Plugin:
        @hookimpl
        def register_executors(self, register):
            register(Broken())

    with plugin_registered(Plugin(), "test-broken"), pytest.raises(PluginError) as caught:
        registry().get("executor", "broken")
    assert "'test-broken'" in str(caught.value) and "register_executors" in str(caught.value)


class WholeImagesInline(InlineExecutor):
    """An executor that asks for whole small images as tasks (as the Dask one does), run here."""

    whole_images = True

    def __init__(self) -> None:
        self.started = []
        self.checked = []

    def start(self, fn, items, workers=None):
        items = list(items)
        names = [Path(item[0]).name for item in items] if fn.__name__ == "build_whole" else len(items)
        self.started.append((fn.__name__, names))
        return super().start(fn, items)

    def check_paths(self, read, write):
        self.checked.append((read, write))


def test_small_images_are_built_whole_as_tasks_when_the_executor_asks(tmp_path, capsys):
    executor = WholeImagesInline()

    class Provider:
        name = "whole"

        def open(self, jobs, address):
            return executor

    class Plugin:
        @hookimpl
        def register_executors(self, register):
            register(Provider())

    osd = fake_openseadragon(tmp_path)
    sites = {}
    for name in ("whole", "plain"):
        site = sites[name] = tmp_path / name
        write_files(site, {"dzbuild.toml": f'[viewer]\nopenseadragon_dir = "{osd}"\n'})
        add_image(site, "small", 300, 200, 128)
        add_image(site, "large", 2200, 2100, 32)  # 5,000 base tiles: built here, its units on the executor
    with plugin_registered(Plugin(), "test-whole"):
        assert cli.main(["build", str(sites["whole"]), "--executor", "whole", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert cli.main(["build", str(sites["whole"]), "--executor", "whole", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["versions_built"] == 0
    assert executor.started[0] == ("build_whole", ["small"])
    assert executor.started[1:] == [("run_unit", 1)]  # the large one is built here, its unit on the executor
    assert executor.checked[0] == ([sites["whole"]], [sites["whole"] / ".dzbuild" / "tree"])
    assert [built["executor"] for built in summary["built"]] == [None, "inline"]  # large here, then small whole
    assert cli.main(["build", str(sites["plain"]), "-j", "1", "--json"]) == 0
    assert tree_bytes(sites["whole"] / "_site") == tree_bytes(sites["plain"] / "_site")
