"""The whole ``dzbuild build`` pipeline on small sites: output layout, no-op reruns, updates, pruning."""

from __future__ import annotations

import json
import os

import pytest
from imagedirs import snapshot
from sites import PINNED, add_image, make_site, write_files

from dzbuild import cli
from dzbuild.grid import Tile
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.build import build_site
from dzbuild.testing import synthetic_image


def build(site, **kwargs):
    return build_site(site, progress="quiet", **kwargs)


def add_v1(site, rel="a"):
    from dzbuild.pyramid.spec import load_spec

    spec = load_spec(site / rel)
    write_tiles(
        site / rel / "v1", synthetic_image(spec.width, spec.height, seed=99), spec, [Tile(spec.grid.max_level, 0, 0)]
    )


def test_first_build_makes_a_deployable_folder_without_build_state(tmp_path):
    site = make_site(tmp_path, images=("a", "deep/b"))
    report = build(site)
    out = site / "_site"
    assert (report.images, report.versions_built, report.tiles_linked) == (2, 2, 12)
    assert report.tiles_computed == 2 * 10  # 300x200 in 128 px tiles: 16 tiles, 6 of them the sources
    for rel in ("a", "deep/b"):
        assert (out / rel / "index.html").is_file() and (out / rel / "dzi" / "v0" / "dzi.xml").is_file()
        assert (out / rel / "dzi" / "v0" / "dzi_files" / "9" / "2_1.jpg").is_file()
        assert (site / ".dzbuild" / "tree" / rel / ".dzbuild" / "v0.json").is_file()  # the state stays in the cache
    assert (out / "index.html").is_file() and (out / "_headers").is_file() and (out / "_redirects").is_file()
    assert (out / "_dzbuild" / "openseadragon" / "0.0.0-test" / "openseadragon.min.js").is_file()
    hidden = [p for p in out.rglob(".*")]
    assert hidden == []
    tile = out / "a" / "dzi" / "v0" / "dzi_files" / "9" / "0_0.jpg"
    assert tile.stat().st_ino == (site / "a" / "v0" / "0_0.jpg").stat().st_ino  # hardlink: stored once


def test_a_second_run_does_nothing_and_touches_nothing(tmp_path):
    site = make_site(tmp_path)
    build(site)
    before = snapshot(site / "_site")
    report = build(site)
    assert (report.versions_built, report.tiles_computed, report.tiles_linked, report.files_written) == (0, 0, 0, 0)
    assert snapshot(site / "_site") == before


def test_a_new_version_rebuilds_one_image_and_rewrites_only_what_changed(tmp_path):
    site = make_site(tmp_path)
    build(site)
    before = snapshot(site / "_site")
    add_v1(site, "a")
    report = build(site)
    assert report.versions_built == 1 and report.built[0]["versions_built"] == [1]
    after = snapshot(site / "_site")
    assert '"dzi/v1/dzi.xml"' in (site / "_site" / "a" / "index.html").read_text()
    changed = {rel for rel in before if before[rel] != after.get(rel)}
    # the index's list changes with the image's thumbnail, a tile of its latest version
    assert changed == {"a/index.html", "index.html", "_dzbuild/index.json", "_redirects", "_headers"} - {"_headers"}
    assert "a/dzi/v1/dzi.xml" in after and after["b/index.html"] == before["b/index.html"]


def test_a_deleted_output_is_relinked_without_computing(tmp_path):
    site = make_site(tmp_path)
    build(site)
    tiles = {p.relative_to(site / "_site"): p.read_bytes() for p in (site / "_site").rglob("*.jpg")}
    import shutil

    shutil.rmtree(site / "_site")
    report = build(site)
    assert (report.versions_built, report.tiles_computed) == (0, 0)
    assert {p.relative_to(site / "_site"): p.read_bytes() for p in (site / "_site").rglob("*.jpg")} == tiles


def test_a_removed_image_leaves_the_output_and_the_index(tmp_path):
    site = make_site(tmp_path)
    write_files(site, {"_site/keep.txt": "not ours"})
    build(site)
    import shutil

    shutil.rmtree(site / "b")
    build(site)
    assert not (site / "_site" / "b").exists() and not (site / ".dzbuild" / "tree" / "b").exists()
    assert "b/" not in (site / "_site" / "index.html").read_text()
    assert (site / "_site" / "keep.txt").read_text() == "not ours"  # only what dzbuild wrote is removed


def test_files_the_site_put_in_an_image_output_folder_survive_its_removal_and_a_rebuild(tmp_path):
    site = make_site(tmp_path, images=("a", "b", "c"))
    build(site)
    write_files(site, {"_site/a/notes.txt": "written by the site generator", "_site/b/deep/x.txt": "also"})
    build(site, rebuild=True)
    assert (site / "_site" / "a" / "notes.txt").read_text() == "written by the site generator"
    import shutil

    shutil.rmtree(site / "a")
    shutil.rmtree(site / "b")
    build(site)
    assert sorted(p.name for p in (site / "_site" / "a").iterdir()) == ["notes.txt"]  # dzi/ and index.html went
    assert sorted(p.name for p in (site / "_site" / "b").iterdir()) == ["deep"]
    assert (site / "_site" / "b" / "deep" / "x.txt").read_text() == "also"
    assert not (site / ".dzbuild" / "tree" / "a").exists() and not (site / ".dzbuild" / "tree" / "b").exists()


def test_rebuild_recomputes_everything(tmp_path):
    site = make_site(tmp_path, images=("a",))
    add_v1(site, "a")
    first = build(site)
    again = build(site, rebuild=True)
    assert (again.versions_built, again.tiles_computed) == (first.versions_built, first.tiles_computed) == (2, 10 + 9)


def test_tile_defaults_fill_what_pyramid_json_omits(tmp_path):
    site = make_site(tmp_path, config="[tiles]\nquality = 40\n", images=("a",))
    write_files(site, {"a/pyramid.json": '{"width": 300, "height": 200, "tile_size": 128, "overlap": 0}'})
    build(site)
    record = json.loads((site / ".dzbuild" / "tree" / "a" / ".dzbuild" / "v0.json").read_text())
    assert record["spec"]["quality"] == 40


def test_custom_output_cache_and_source(tmp_path):
    config = 'source = "content"\noutput = "public/zoom"\ncache = "build-cache"\nheaders_file = "public/_headers"\n'
    site = make_site(tmp_path, config=config, images=("content/a",))
    report = build(site)
    assert report.images == 1 and (site / "public" / "zoom" / "a" / "dzi" / "v0" / "dzi.xml").is_file()
    assert (site / "build-cache" / "tree" / "a" / ".dzbuild").is_dir()
    assert (site / "public" / "_headers").is_file() and not (site / "public" / "zoom" / "_headers").exists()


def test_collections_are_built_after_their_members_and_linked_from_the_index(tmp_path):
    site = make_site(tmp_path, images=("g/a", "g/b", "c"))
    write_files(site, {"g/collection.toml": 'title = "Gee"\n'})
    report = build(site)
    out = site / "_site"
    assert (out / "g" / "index.html").is_file()
    assert 'href="./g/"' in (out / "index.html").read_text()
    dzc = out / "g" / "v0" / "g.dzc"
    assert dzc.is_file() and "../a/dzi/v0/dzi.xml" in dzc.read_text()
    assert not list(out.rglob(".*"))
    assert any(item.get("collection") == "g" for item in report.built)
    assert build(site).versions_built == 0


def test_symlink_storage_links_the_output_too(tmp_path):
    site = make_site(tmp_path, config='storage = "symlink"\n', images=("a",))
    build(site)
    tile = site / "_site" / "a" / "dzi" / "v0" / "dzi_files" / "9" / "0_0.jpg"
    assert tile.is_symlink() and not os.path.isabs(os.readlink(tile))
    assert tile.read_bytes() == (site / "a" / "v0" / "0_0.jpg").read_bytes()


def test_missing_openseadragon_is_a_configuration_error_before_any_tile_work(tmp_path):
    site = make_site(tmp_path, config='[viewer]\nopenseadragon_dir = "nowhere"\n')
    with pytest.raises(Exception, match="OpenSeadragon not found") as caught:
        build(site)
    assert caught.value.exit_code == 2 and not (site / ".dzbuild" / "tree").exists()


def test_cli_json_summary(tmp_path, capsys):
    site = make_site(tmp_path)
    assert cli.main(["build", str(site), "--json", "-j", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 2 and summary["versions_built"] == 2 and summary["tiles_computed"] == 20
    assert {"tiles_linked", "seconds", "warnings", "output_files", "built", "collections"} <= set(summary)
    assert cli.main(["build", str(site), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["versions_built"] == 0


def test_cli_errors_are_one_line_with_the_exit_code(tmp_path, capsys):
    write_files(tmp_path, {"dzbuild.toml": "ouput = 1\n"})
    assert cli.main(["build", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"dzbuild: error: {tmp_path / 'dzbuild.toml'}: unknown key 'ouput' (did you mean 'output'?) (known keys: "
        + err.split("known keys: ")[1]
    )
    assert err.count("\n") == 1


def test_cli_plain_lines_in_ci(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CI", "true")
    site = make_site(tmp_path)
    add_image(site, "c", seed=5)
    assert cli.main(["build", str(site)]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0].startswith("[1/3] a: built v0: 10 tiles computed, 6 linked in ")
    assert len(lines) == 3 and "\r" not in captured.err
    assert captured.out.startswith(f"{site}: 3 images, 0 collections: 3 versions built (30 tiles computed, 18 linked)")


def test_theme_assets_and_cdn_mode(tmp_path):
    config = 'templates = "theme"\n\n[viewer]\nopenseadragon = "cdn"\n'
    site = make_site(tmp_path, config=config, images=("a",), files={"theme/assets/viewer.css": "body{}"})
    build(site)
    out = site / "_site"
    assert (out / "_dzbuild" / "assets" / "viewer.css").read_text() == "body{}"
    assert not (out / "_dzbuild" / "openseadragon").exists()
    page = (out / "a" / "index.html").read_text()
    assert f'src="https://cdn.jsdelivr.net/npm/openseadragon@{PINNED}/build/openseadragon/openseadragon.min.js"' in page
    assert 'integrity="sha384-' in page and 'crossorigin="anonymous"' in page


def test_one_site_build_at_a_time(tmp_path):
    from dzbuild.errors import LockedError
    from dzbuild.io.lock import locked

    site = make_site(tmp_path, images=("a",))
    with locked(site / ".dzbuild"), pytest.raises(LockedError) as caught:
        build(site)
    assert caught.value.exit_code == 6


def test_a_missing_source_folder_is_a_configuration_error(tmp_path):
    site = make_site(tmp_path, config='source = "content"\n', images=())
    with pytest.raises(Exception, match="'source' is not a folder") as caught:
        build(site)
    assert caught.value.exit_code == 2


def test_versions_removed_from_the_cache_leave_the_output_and_the_version_picker(tmp_path):
    import shutil

    site = make_site(tmp_path, images=("a",))
    add_v1(site, "a")
    build(site)
    assert 'value="dzi/v0/dzi.xml"' in (site / "_site" / "a" / "index.html").read_text()
    shutil.rmtree(site / ".dzbuild" / "tree" / "a" / "dzi" / "v0")  # what `dzbuild vacuum` does to a version
    build(site)
    assert not (site / "_site" / "a" / "dzi" / "v0").exists() and (site / "_site" / "a" / "dzi" / "v1").is_dir()
    page = (site / "_site" / "a" / "index.html").read_text()
    assert 'value="dzi/v0/dzi.xml"' not in page and '"dzi/v1/dzi.xml"' in page


def test_github_pages_gets_a_nojekyll_marker(tmp_path):
    site = make_site(tmp_path, config='host = "github-pages"\n', images=("a",))
    build(site)
    assert (site / "_site" / ".nojekyll").read_bytes() == b""  # else Jekyll drops _dzbuild/ (OpenSeadragon)


def test_a_collection_naming_a_missing_image_fails_before_anything_is_built(tmp_path):
    from dzbuild.errors import ConfigError

    site = make_site(tmp_path, '[[collections]]\nname = "c"\nimages = ["a", "nope"]\n')
    before = snapshot(site)
    with pytest.raises(ConfigError, match="'nope' matches no image folder"):
        build_site(site)
    assert snapshot(site) == before  # no image built, no cache, no output


def test_a_site_without_image_folders_is_an_error_naming_the_folder_searched(tmp_path, capsys):
    site = make_site(tmp_path, images=(), files={"notes/readme.txt": "no tiles here"})
    assert cli.main(["build", str(site)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"dzbuild: error: {site}: no image folder found below this folder (an image folder holds a pyramid.json"
        " (width, height, tile_size, overlap) and a v0/ of tiles)\n"
    )
    assert not (site / "_site").exists()


def test_tiles_without_pyramid_json_are_pointed_out(tmp_path, capsys):
    site = make_site(tmp_path, images=("a",))
    (site / "a" / "pyramid.json").rename(site / "a" / "spec.json")
    assert cli.main(["build", str(site)]) == 2
    err = capsys.readouterr().err
    expected = f"dzbuild: error: no image folder found below {site}: {site / 'a'} holds v0/ but no pyramid.json"
    assert err.startswith(expected)
    assert err.count("\n") == 1
    add_image(site, "b")  # with another image, the folder without pyramid.json is a warning
    report = build(site)
    assert report.images == 1
    assert report.warnings == [
        f"{site / 'a'} holds v0/ but no pyramid.json, so it is not an image folder (an image folder holds a"
        " pyramid.json (width, height, tile_size, overlap) and a v0/ of tiles)"
    ]


@pytest.mark.parametrize("viewer", ["local", "cdn"])
def test_the_reported_output_file_count_is_what_lies_on_disk(tmp_path, viewer):
    config = '[viewer]\nopenseadragon = "cdn"\n' if viewer == "cdn" else ""
    site = make_site(tmp_path, config=config, images=("a",))
    report = build(site)
    on_disk = sum(len(files) for _, _, files in os.walk(site / "_site"))
    assert {"_headers", "_redirects", "index.html"} <= set(os.listdir(site / "_site"))
    assert report.output_files == on_disk
