"""``dzbuild collection PATH`` through the real command line: images first, then the collection."""

from __future__ import annotations

import json
from pathlib import Path

from imagedirs import make_image_dir

from dzbuild.cli import main
from dzbuild.collection.dzc import read_dzc


def gallery(tmp_path: Path, settings: str = "") -> Path:
    folder = tmp_path / "gal"
    for i, (w, h) in enumerate([(120, 80), (64, 200), (300, 300)]):
        make_image_dir(folder / "photos", w, h, 64, seed=i)
    (folder / "collection.toml").write_text(f'name = "holiday"\nimages = ["photos/*"]\n{settings}', encoding="utf-8")
    return folder


def test_builds_the_images_then_the_collection_then_only_what_is_new(tmp_path: Path, capsys):
    folder = gallery(tmp_path, "tile_size = 128\nmax_level = 7\n")
    assert main(["collection", str(folder), "--json", "-j", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [len(i["versions_built"]) for i in summary["images"]] == [1, 1, 1]
    assert summary["collection"]["versions_built"] == [0] and summary["collection"]["items"] == 3
    dzc = read_dzc(folder / "dest" / "v0" / "holiday.dzc")
    assert (dzc.tile_size, dzc.max_level, dzc.next_id) == (128, 7, 3)
    first = min((folder / "photos").iterdir()).name  # globs match in path order
    assert dzc.items[0].source == f"../../photos/{first}/dest/dzi/v0/dzi.xml"

    make_image_dir(folder / "photos", 90, 90, 64, seed=9)  # a new image joins
    assert main(["collection", str(folder), "--json", "-j", "1"]) == 0
    collection = json.loads(capsys.readouterr().out)["collection"]
    assert collection["versions_built"] == [1] and 1 <= collection["tiles_computed"] <= 8

    assert main(["collection", str(folder), "-j", "1"]) == 0
    assert "holiday: up to date" in capsys.readouterr().out


def test_mistakes_are_one_line_errors_naming_the_file(tmp_path: Path, capsys):
    assert main(["collection", str(tmp_path)]) == 2
    assert "no collection.toml or collection.json in this folder" in capsys.readouterr().err
    folder = gallery(tmp_path, "tile_size = 100\n")
    assert main(["collection", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "collection.toml: collection tile_size must be a power of two" in err and "Traceback" not in err


def test_a_collection_without_a_name_is_named_after_its_folder_as_in_a_site_build(tmp_path: Path, capsys):
    from sites import make_site

    from dzbuild.site.build import build_site

    folder = gallery(tmp_path)
    (folder / "collection.toml").write_text('images = ["photos/*"]\n', encoding="utf-8")
    assert main(["collection", str(folder), "-j", "1"]) == 0
    assert "gal: published v0 (3 items" in capsys.readouterr().out
    assert read_dzc(folder / "dest" / "v0" / "gal.dzc").next_id == 3

    site = make_site(tmp_path / "s", images=("gal/a", "gal/b"), files={"gal/collection.toml": ""})
    build_site(site, jobs=1)
    assert (site / "_site" / "gal" / "v0" / "gal.dzc").is_file()


def test_the_dzc_declares_its_jpeg_quality_as_a_fraction(tmp_path: Path, capsys):
    import xml.etree.ElementTree as ET

    folder = gallery(tmp_path, "quality = 72\n")
    assert main(["collection", str(folder), "-j", "1"]) == 0
    root = ET.parse(folder / "dest" / "v0" / "holiday.dzc").getroot()
    assert root.attrib["Quality"] == "0.72" and root.attrib["Format"] == "jpg"
    assert read_dzc(folder / "dest" / "v0" / "holiday.dzc").quality == 0.72
