"""The data file for site generators: what it lists, that every URL in it is served, reruns write nothing."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from sites import make_site, write_files
from test_site_build import add_v1, build

CONFIG = 'data_file = "data/dzbuild.json"\nbase_url = "/zoom/"\n'


def served(site, url: str):
    """The output file behind a URL under base_url ``/zoom/``."""
    assert url.startswith("/zoom/"), url
    return site / "_site" / unquote(url.removeprefix("/zoom/"))


def test_lists_every_image_and_collection_with_urls_that_exist(tmp_path):
    site = make_site(tmp_path, config=CONFIG, images=("a", "g/b c", "g/d"))
    write_files(site, {"g/collection.toml": 'title = "Gee"\n'})
    add_v1(site, "a")
    build(site)
    data = json.loads((site / "data" / "dzbuild.json").read_text())
    assert sorted(data["images"]) == ["a", "g/b c", "g/d"]
    a = data["images"]["a"]
    assert (a["path"], a["width"], a["height"], a["tile_size"], a["versions"], a["latest"]) == (
        "a", 300, 200, 128, [0, 1], 1
    )
    assert a["descriptor"] == "/zoom/a/dzi/v1/dzi.xml"
    assert a["descriptors"] == {"dzi": {"0": "/zoom/a/dzi/v0/dzi.xml", "1": "/zoom/a/dzi/v1/dzi.xml"}}
    assert a["thumbnail"] == {"url": "/zoom/a/dzi/v1/dzi_files/7/0_0.jpg", "width": 75, "height": 50}  # 128 px tiles
    assert data["images"]["g/b c"]["url"] == "/zoom/g/b%20c/"
    old = a["embed"]["0"]  # the shared embed rendered per version, in parts around the page's alt and caption
    assert '"tileSources": "/zoom/a/dzi/v0/dzi.xml"' in old["parts"][0]
    assert 'src="/zoom/a/dzi/v0/dzi_files/7/' in old["parts"][2]
    assert old["parts"][1::2] == ["alt", "alt", "caption"] and old["parts_plain"][1::2] == ["alt", "alt"]
    assert "<figcaption>" not in "".join(old["parts_plain"])
    for image in data["images"].values():
        for url in [image["descriptor"], image["thumbnail"]["url"], *image["descriptors"]["dzi"].values()]:
            assert served(site, url).is_file(), url
        assert "manifest" not in image  # no IIIF format in this site
    (group,) = data["collections"].values()
    assert (group["name"], group["title"], group["items"]) == ("g", "Gee", ["g/b c", "g/d"])
    assert served(site, group["descriptor"]).is_file()
    assert served(site, data["assets"]["openseadragon"]).is_file()
    assert served(site, data["assets"]["embed"]).is_file()


def test_a_rerun_leaves_it_alone_and_a_new_version_rewrites_it(tmp_path):
    site = make_site(tmp_path, config=CONFIG, images=("a",))
    build(site)
    path = site / "data" / "dzbuild.json"
    stamp = path.stat().st_mtime_ns
    assert build(site).files_written == 0 and path.stat().st_mtime_ns == stamp
    add_v1(site, "a")
    build(site)
    assert json.loads(path.read_text())["images"]["a"]["latest"] == 1


def test_without_the_key_no_data_file_is_written(tmp_path):
    site = make_site(tmp_path, images=("a",))
    build(site)
    assert not list(site.rglob("dzbuild.json"))


def test_iiif_manifests_of_images_and_collections_are_listed_linked_and_not_immutable(tmp_path):
    pytest.importorskip("dzbuild_iiif")
    import dzbuild_iiif

    from dzbuild.testing import plugin_registered

    config = 'data_file = "data/dzbuild.json"\nbase_url = "https://example.org/zoom/"\nformats = ["dzi", "iiif"]\n'
    site = make_site(tmp_path, config=config, images=("g/a", "g/b"))
    write_files(site, {"g/collection.toml": 'title = "Gee"\n'})
    with plugin_registered(dzbuild_iiif, "iiif"):
        build(site)
        data = json.loads((site / "data" / "dzbuild.json").read_text())
        a = data["images"]["g/a"]
        assert a["manifest"] == "https://example.org/zoom/g/a/iiif/manifest.json"
        assert a["descriptors"]["iiif"] == {"0": "https://example.org/zoom/g/a/iiif/v0/info.json"}
        collection = json.loads((site / "_site/g/iiif/collection.json").read_text())
        assert data["collections"]["g"]["manifest"] == collection["id"] == "https://example.org/zoom/g/iiif/collection.json"
        assert [item["id"] for item in collection["items"]] == [a["manifest"], data["images"]["g/b"]["manifest"]]
        page = (site / "_site/g/a/index.html").read_text()
        assert 'href="iiif/manifest.json?manifest=https%3A//example.org/zoom/g/a/iiif/manifest.json"' in page
        headers = (site / "_site/_headers").read_text()
        assert "/zoom/g/a/iiif/v*" in headers and "/zoom/g/a/iiif/*" not in headers
        assert build(site).files_written == 0


def test_a_sites_own_embed_template_reaches_the_shortcodes(tmp_path):
    custom = '<div class="mine" data-dzbuild=\'{{ config|tojson }}\' aria-label="{{ alt }}"></div>\n'
    site = make_site(tmp_path, config=CONFIG + 'templates = "theme"\n', files={"theme/_embed.html": custom})
    build(site)
    data = json.loads((site / "data" / "dzbuild.json").read_text())
    parts = data["images"]["a"]["embed"]["0"]["parts_plain"]
    assert parts[0].startswith('<div class="mine" data-dzbuild=') and parts[1:] == ["alt", '"></div>']
