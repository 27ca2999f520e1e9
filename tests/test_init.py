"""``dzbuild init``: the generator's files and a dzbuild.toml are added, a user's file never replaced."""

from __future__ import annotations

import pytest

from dzbuild import cli
from dzbuild.integrations.generators import GENERATORS, init_project, project_files
from dzbuild.site.config import load_config


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_adds_the_files_once_and_the_config_loads(name, tmp_path, capsys):
    assert cli.main(["init", name, str(tmp_path)]) == 0
    files = project_files(GENERATORS[name])
    for rel, data in files.items():
        assert (tmp_path / rel).read_bytes() == data
    assert cli.main(["init", name, str(tmp_path)]) == 0  # again: already there, nothing changes
    assert "is already dzbuild's" in capsys.readouterr().out
    (tmp_path / "zoom").mkdir()
    (tmp_path / "_zoom").mkdir()
    config = load_config(tmp_path)  # the dzbuild.toml it wrote is valid
    assert config.data_file.parent.name in ("data", "_data") and config.base_url == "/zoom/"
    assert config.output.is_relative_to(tmp_path) and config.source != config.output


def test_a_users_file_is_kept_and_named_while_the_others_are_added(tmp_path, capsys):
    (tmp_path / "dzbuild.toml").write_text('title = "mine"\n')
    assert cli.main(["init", "hugo", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dzbuild.toml: exists, kept as it is" in err
    assert (tmp_path / "dzbuild.toml").read_text() == 'title = "mine"\n'
    assert (tmp_path / "layouts" / "shortcodes" / "deepzoom.html").is_file()


def test_errors_name_the_folder_or_the_generator(tmp_path, capsys):
    assert cli.main(["init", "hugo", str(tmp_path / "nope")]) == 2
    assert "nope: is not a folder" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown site generator 'gatsby'"):
        init_project("gatsby", tmp_path)


@pytest.mark.parametrize("blocker", ["layouts", "layouts/shortcodes"])
def test_a_file_where_a_folder_is_needed_stops_init_before_it_adds_anything(tmp_path, capsys, blocker):
    (tmp_path / blocker).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocker).write_text("the user's\n")
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert cli.main(["init", "hugo", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"dzbuild: error: {tmp_path / blocker}: is not a folder, but dzbuild init puts"
        " layouts/shortcodes/deepzoom.html in it: move it aside and run init again; nothing was added\n"
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
    assert (tmp_path / blocker).read_text() == "the user's\n"
    (tmp_path / blocker).unlink()  # moved aside: init adds everything
    assert cli.main(["init", "hugo", str(tmp_path)]) == 0
    assert all((tmp_path / rel).read_bytes() == data for rel, data in project_files(GENERATORS["hugo"]).items())
