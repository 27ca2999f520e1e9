"""The site journal: a rerun skips exactly the images nothing moved for, and every guarantee holds."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from imagedirs import snapshot
from sites import make_site

import dzbuild.pyramid.sources
import dzbuild.site.build
from dzbuild.errors import PublishedError
from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.build import build_site
from dzbuild.site.hostlimits import measure
from dzbuild.site.journal import JOURNAL_FILE
from dzbuild.testing import synthetic_image


def build(site, **kwargs):
    return build_site(site, progress="quiet", **kwargs)


@pytest.fixture
def settled(tmp_path, monkeypatch):
    """A site of three images built, then rebuilt once so the engine verified every source file and
    the journal recorded every image (no racy window: no test waits two seconds)."""
    monkeypatch.setattr(dzbuild.pyramid.sources, "RACY_NS", 0)
    site = make_site(tmp_path, images=("a", "b", "deep/c"))
    build(site)
    build(site)
    journal = json.loads((site / ".dzbuild" / JOURNAL_FILE).read_text())
    assert sorted(journal["images"]) == ["a", "b", "deep/c"]
    return site


def forbid_building(monkeypatch, allowed=()):
    """Fail if the site build calls the engine or renders the page of an image not in ``allowed``."""
    real_build, real_page = dzbuild.site.build.build_pyramid, dzbuild.site.build.Renderer.image_page

    def build_pyramid(source, dest, *args, **kwargs):
        assert source.name in allowed, f"{source.name} was built again"
        return real_build(source, dest, *args, **kwargs)

    def image_page(self, info):
        assert info.rel.split("/")[-1] in allowed, f"the page of {info.rel} was rendered again"
        return real_page(self, info)

    monkeypatch.setattr(dzbuild.site.build, "build_pyramid", build_pyramid)
    monkeypatch.setattr(dzbuild.site.build.Renderer, "image_page", image_page)


def test_a_rerun_with_nothing_new_builds_and_renders_no_image(settled, monkeypatch):
    out = settled / "_site"
    before = snapshot(out)
    mtimes = {path: path.stat().st_mtime_ns for path in out.rglob("*")}
    forbid_building(monkeypatch)
    report = build(settled)
    assert (report.versions_built, report.files_written) == (0, 0)
    assert snapshot(out) == before
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")} == mtimes
    walked = measure(out)  # the counts kept in the journal are what a full walk finds
    assert (report.output_files, report.output_bytes) == (walked.on_disk, walked.bytes)


def add_v1(image) -> None:
    spec = load_spec(image)
    write_tiles(image / "v1", synthetic_image(spec.width, spec.height, seed=7), spec, [Tile(spec.grid.max_level, 0, 0)])


def test_one_new_version_builds_only_that_image(settled, monkeypatch):
    add_v1(settled / "b")
    forbid_building(monkeypatch, allowed=("b",))
    report = build(settled)
    assert [entry["image"] for entry in report.built] == [str(settled / "b")]
    assert (settled / "_site" / "b" / "dzi" / "v1" / "dzi.xml").is_file()
    page = (settled / "_site" / "b" / "index.html").read_text()
    assert "dzi/v1/dzi.xml" in page
    walked = measure(settled / "_site")
    assert (report.output_files, report.output_bytes) == (walked.on_disk, walked.bytes)


def test_a_tile_edited_in_place_with_its_mtime_restored_is_refused(settled):
    tile = settled / "a" / "v0" / "1_0.jpg"
    before = tile.stat()
    data = tile.read_bytes()
    with open(tile, "r+b") as handle:  # the same inode and size, other bytes
        handle.seek(100)
        handle.write(bytes(b ^ 0xFF for b in data[100:164]))
    os.utime(tile, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert tile.stat().st_mtime_ns == before.st_mtime_ns and tile.stat().st_size == before.st_size
    with pytest.raises(PublishedError) as caught:
        build(settled)
    assert str(caught.value).startswith(f"{tile}: was modified in v0, which is published")
    assert caught.value.exit_code == 4


def contents(folder) -> dict:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_deleted_output_version_and_page_are_made_again(settled):
    out = settled / "_site"
    before = contents(out)
    shutil.rmtree(out / "deep" / "c" / "dzi" / "v0")
    (out / "a" / "index.html").unlink()
    report = build(settled)
    assert report.tiles_computed == 0
    assert contents(out) == before


def test_a_leftover_of_a_killed_build_is_swept(settled):
    leftover = settled / "_site" / "b" / ".index.html.partial-99999"
    leftover.write_text("half a page")
    build(settled)
    assert not leftover.exists()


def test_a_template_change_renders_every_page_again(settled):
    config = settled / "dzbuild.toml"
    config.write_text('title = "Renamed"\n' + config.read_text())
    build(settled)
    assert "Renamed" in (settled / "_site" / "deep" / "c" / "index.html").read_text()


def test_a_damaged_journal_costs_one_full_build(settled):
    before = snapshot(settled / "_site")
    (settled / ".dzbuild" / JOURNAL_FILE).write_text("{not json")
    report = build(settled)
    assert report.versions_built == 0 and snapshot(settled / "_site") == before
    assert sorted(json.loads((settled / ".dzbuild" / JOURNAL_FILE).read_text())["images"]) == ["a", "b", "deep/c"]


def test_a_build_stopped_before_its_journal_is_saved_is_repaired_by_the_next(settled, monkeypatch):
    add_v1(settled / "b")
    journal = settled / ".dzbuild" / JOURNAL_FILE
    before = journal.read_bytes()

    def stop(*args):
        raise KeyboardInterrupt  # Ctrl-C after the pages, before the control files and the journal

    with monkeypatch.context() as patched:
        patched.setattr(dzbuild.site.build, "_write_control_files", stop)
        with pytest.raises(KeyboardInterrupt):
            build(settled)
    assert journal.read_bytes() == before  # the last complete build's
    report = build(settled)
    assert report.versions_built == 0 and report.tiles_computed == 0  # v1 was published by the stopped build
    assert (settled / "_site" / "b" / "dzi" / "v1" / "dzi.xml").is_file()
    assert "b/dzi/v1" in (settled / "_site" / "_redirects").read_text()
    walked = measure(settled / "_site")
    assert (report.output_files, report.output_bytes) == (walked.on_disk, walked.bytes)
