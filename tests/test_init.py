"""``dzbuild init``: the generator's files and a dzbuild.toml are added, a user's file never replaced."""

from __future__ import annotations

import pytest

from dzbuild import cli
from dzbuild.integrations.generators import GENERATORS, HERE, init_project, project_files
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


STARTER = ["layouts/_default/baseof.html", "layouts/_default/single.html", "layouts/_default/list.html"]


def test_a_hugo_project_without_theme_or_layout_gets_a_minimal_layout(tmp_path, capsys):
    (tmp_path / "layouts").mkdir()  # as `hugo new site` leaves it: empty, and no theme in the config
    (tmp_path / "config.toml").write_text("baseURL = 'http://example.org/'\ntitle = 'My New Hugo Site'\n")
    assert cli.main(["init", "hugo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for rel in STARTER:
        assert (tmp_path / rel).read_bytes() == (HERE / "hugo" / rel.rsplit("/", 1)[1]).read_bytes()
        assert f"added {rel}" in out


@pytest.mark.parametrize(
    "files",
    [
        {"hugo.toml": 'theme = "ananke"\n'},
        {"config.yaml": "title: t\ntheme: [ananke]\n"},
        {"config/_default/hugo.toml": '[module]\n[[module.imports]]\npath = "example.org/a-theme"\n'},
        {"hugo.toml": "title = 't'\n", "layouts/index.html": "<p>{{ .Title }}</p>\n"},
        {"hugo.toml": "title = 't'\n", "layouts/_default/single.html": "{{ .Content }}\n"},
    ],
    ids=["theme", "yaml-theme", "module", "own-home", "own-single"],
)
def test_a_hugo_project_with_a_theme_or_layout_gets_none(tmp_path, files):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    def layouts() -> dict:
        pages = (p for p in (tmp_path / "layouts").rglob("*") if p.is_file() and "shortcodes" not in p.parts)
        return {p: p.read_bytes() for p in pages}

    before = layouts()
    assert cli.main(["init", "hugo", str(tmp_path)]) == 0
    assert layouts() == before and not any((tmp_path / rel).exists() for rel in STARTER if rel not in files)


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
