"""Viewer pages: what they open, how they link, and that names from files and configuration stay text."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from sites import make_site, write_files

from dzbuild.api import BUILTIN_TEMPLATES
from dzbuild.errors import ConfigError
from dzbuild.site.assets import ViewerAssets
from dzbuild.site.build import build_site
from dzbuild.site.pages import (
    CollectionInfo,
    ImageInfo,
    Renderer,
    dot_relative,
    environment,
    relative_url,
)

EVIL = 'x/<script>alert("pwned")<img src=y onerror=alert(2)>'
LOCAL_OSD = ViewerAssets("_dzbuild/openseadragon/6/openseadragon.min.js", "_dzbuild/openseadragon/6/images/")


class Tags(HTMLParser):
    """Collects every start tag with its attributes, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def parse(html: bytes) -> Tags:
    tags = Tags()
    tags.feed(html.decode("utf-8"))
    return tags


def renderer(site_title="Scans", viewer=LOCAL_OSD, dirs=None):
    return Renderer(
        dirs or [BUILTIN_TEMPLATES], {"title": site_title, "viewer_options": {"showNavigator": False}}, viewer
    )


def test_image_page_opens_the_latest_version_by_its_versioned_url():
    rel, html = renderer().image_page(ImageInfo("maps/harbour", 1500, 1000, 256, "jpg", 3))
    assert rel == "maps/harbour/index.html"
    page = parse(html)
    scripts = [attrs for tag, attrs in page.tags if tag == "script" and "src" in attrs]
    assert scripts == [
        {"src": "../../_dzbuild/openseadragon/6/openseadragon.min.js"},
        {"src": "../../_dzbuild/assets/dzbuild-viewer.js"},
        {"src": "../../_dzbuild/assets/dzbuild-image.js"},
    ]
    settings = page_settings(page)
    assert [v["source"] for v in settings["versions"]][-1] == "dzi/v2/dzi.xml"  # the last is the one opened
    assert [v["url"] for v in settings["versions"]] == ["dzi/v0/dzi.xml", "dzi/v1/dzi.xml", "dzi/v2/dzi.xml"]
    assert settings["prefixUrl"] == "../../_dzbuild/openseadragon/6/images/"
    assert settings["options"] == {"showNavigator": False}
    assert (settings["width"], settings["height"], settings["tileSize"]) == (1500, 1000, 256)
    assert [v["changes"] for v in settings["versions"]] == [None, "changes/v1.json", "changes/v2.json"]
    selects = {attrs["id"]: attrs for tag, attrs in page.tags if tag == "select"}
    assert all(attrs.get("aria-label") for attrs in selects.values()) and set(selects) == {"version", "compare", "mode"}
    options = [attrs["value"] for tag, attrs in page.tags if tag == "option"]
    assert options[:3] == ["dzi/v0/dzi.xml", "dzi/v1/dzi.xml", "dzi/v2/dzi.xml"]  # then "compare with" and modes
    assert options[3:] == ["", "0", "1", "2", "swipe", "side"]


def page_settings(page: Tags) -> dict:
    """The JSON the image page's script reads (``<script type="application/json" id="dzbuild-image">``)."""
    inline = [attrs for tag, attrs in page.tags if tag == "script" and "src" not in attrs]
    assert inline == [{"type": "application/json", "id": "dzbuild-image"}] and len(page.scripts) == 1
    return json.loads(page.scripts[0])


def test_cdn_mode_adds_the_integrity_hash():
    cdn = ViewerAssets("https://cdn.example/osd.min.js", "https://cdn.example/images/", "sha384-abc")
    _, html = renderer(viewer=cdn).image_page(ImageInfo("a", 10, 10, 8, "jpg", 1))
    script, *ours = [attrs for tag, attrs in parse(html).tags if tag == "script" and "src" in attrs]
    assert ours == [{"src": "../_dzbuild/assets/dzbuild-viewer.js"}, {"src": "../_dzbuild/assets/dzbuild-image.js"}]
    assert script == {"src": "https://cdn.example/osd.min.js", "integrity": "sha384-abc", "crossorigin": "anonymous"}


def pages_for(name: str, title: str) -> list[bytes]:
    image = ImageInfo(name, 300, 200, 128, "jpg", 1)
    site = renderer(site_title=title)
    return [
        site.image_page(image)[1],
        site.index_page([image], [])[1],
        site.collection_page(CollectionInfo("c", title, "c", "v0/c.dzc", [image]))[1],
    ]


def test_names_from_files_and_configuration_are_escaped():
    evil_pages = pages_for(EVIL, "<b>bold</b>")
    for html, plain in zip(evil_pages, pages_for("x/plain", "plain"), strict=True):
        text = html.decode()
        assert "<script>alert" not in text and "<img src=y" not in text and "<b>bold" not in text
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;img src=y onerror=alert(2)&gt;" in text
        assert "&lt;b&gt;bold&lt;/b&gt;" in text
        # the evil names add no element and no attribute: the same tags as with plain names
        assert [(tag, sorted(attrs)) for tag, attrs in parse(html).tags] == [
            (tag, sorted(attrs)) for tag, attrs in parse(plain).tags
        ]
    links = [attrs["href"] for tag, attrs in parse(evil_pages[1]).tags if tag == "a"]
    assert links == ["./x/%3Cscript%3Ealert(%22pwned%22)%3Cimg%20src=y%20onerror=alert(2)%3E/"]


def test_values_inside_scripts_are_json_that_cannot_close_the_script():
    options = {"navigatorId": "</script><b>"}
    site = Renderer([BUILTIN_TEMPLATES], {"title": "t", "viewer_options": options}, LOCAL_OSD)
    for _, html in (
        site.image_page(ImageInfo("a", 9, 9, 8, "jpg", 1)),
        site.collection_page(CollectionInfo("c", "c", "c", None, [ImageInfo("</script><x>", 9, 9, 8, "jpg", 1)])),
    ):
        scripts = parse(html).scripts
        assert scripts and not any("</script>" in s or "<b>" in s or "<x>" in s for s in scripts)
    page = parse(site.image_page(ImageInfo("a", 9, 9, 8, "jpg", 1))[1])
    assert page_settings(page)["options"] == options
    (collection_settings,) = parse(site.collection_page(CollectionInfo("c", "c", "c", None, []))[1]).scripts
    assert json.loads(collection_settings)["options"] == options  # what dzbuild-collection.js reads


def test_index_lists_images_with_their_thumbnail_tile_and_links_collections():
    images = [ImageInfo("harbour", 1500, 1000, 256, "jpg", 2), ImageInfo("g/reef", 640, 960, 256, "png", 1)]
    _, html = renderer().index_page(images, [CollectionInfo("g", "Gallery", "g", "v0/g.dzc", images[1:])])
    page = parse(html)
    collection_thumb, *imgs = [attrs for tag, attrs in page.tags if tag == "img"]
    assert collection_thumb["src"] == "./g/reef/dzi/v0/dzi_files/8/0_0.png"  # its only member's thumbnail
    assert imgs[0]["src"] == "./harbour/dzi/v1/dzi_files/8/0_0.jpg" and (imgs[0]["width"], imgs[0]["height"]) == (
        "188",
        "125",
    )
    assert imgs[1]["src"] == "./g/reef/dzi/v0/dzi_files/8/0_0.png" and (imgs[1]["width"], imgs[1]["height"]) == (
        "160",
        "240",
    )
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert hrefs == ["./g/", "./harbour/", "./g/reef/"]


def test_a_site_template_folder_overrides_single_templates(tmp_path):
    write_files(
        tmp_path, {"image.html": '{% extends "base.html" %}{% block main %}custom {{ image.title }}{% endblock %}'}
    )
    _, html = renderer(dirs=[tmp_path, BUILTIN_TEMPLATES]).image_page(ImageInfo("a<b", 10, 10, 8, "jpg", 1))
    assert "custom a&lt;b" in html.decode() and "<!doctype html>" in html.decode()
    _, index = renderer(dirs=[tmp_path, BUILTIN_TEMPLATES]).index_page([], [])
    assert "No images yet" in index.decode()


def test_a_collection_card_shows_a_mosaic_of_its_first_members():
    members = [ImageInfo(f"g/{n}", 300, 200, 256, "jpg", 1) for n in "abcde"]
    counts = {}
    for count in (0, 1, 2, 3, 4, 5):
        _, html = renderer().index_page([], [CollectionInfo("g", "G", "g", "v0/g.dzc", members[:count])])
        counts[count] = [attrs["src"] for tag, attrs in parse(html).tags if tag == "img"]
    assert {count: len(srcs) for count, srcs in counts.items()} == {0: 0, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4}
    assert counts[5] == [f"./g/{n}/dzi/v0/dzi_files/8/0_0.jpg" for n in "abcd"]


def test_relative_urls():
    assert relative_url("", "a b/c") == "./a%20b/c"
    assert relative_url("x/y", "") == "../../"
    assert relative_url("g", "g/reef") == "../g/reef"
    assert relative_url("", "javascript:alert(1)") == "./javascript:alert(1)"  # a path, never a scheme
    assert relative_url("", "") == "./"
    assert dot_relative("v0/c.dzc") == "./v0/c.dzc" and dot_relative("../x") == "../x"


def test_templates_get_url_filters_that_only_make_paths(tmp_path):
    (tmp_path / "t.html").write_text("{{ 'javascript:alert(1)'|url }} {{ 'data:x'|relative_url }}")
    assert environment([tmp_path]).get_template("t.html").render() == "./javascript:alert(1) ./data:x"


class _ObjectSourceFormat:
    """A format OpenSeadragon opens from a tile source object (as Zoomify is), not from a URL."""

    name = "tiled"
    descriptor = "props.xml"

    def tile_path(self, grid, tile, ext):
        return f"t/{tile.level}/{tile.col}-{tile.row}.{ext}"

    def viewer_source(self, descriptor_url, spec):
        return {"type": "example", "url": descriptor_url, "width": spec.width}


def test_the_viewer_format_says_what_the_page_opens():
    fmt = _ObjectSourceFormat()
    image = ImageInfo("a", 1500, 1000, 256, "jpg", 2, formats=(fmt,), viewer=fmt)
    _, html = renderer().image_page(image)
    page = parse(html)
    versions = page_settings(page)["versions"]
    assert versions[-1]["source"] == {"type": "example", "url": "tiled/v1/props.xml", "width": 1500}
    # the picker's values are the sources as JSON; the page opens the source whose value is chosen
    assert [v["url"] for v in versions] == [json.dumps(v["source"], sort_keys=True) for v in versions]
    picker = [attrs["value"] for tag, attrs in page.tags if tag == "option"][:2]  # then the compare menu
    options = [json.loads(value) for value in picker]
    assert [o["url"] for o in options] == ["tiled/v0/props.xml", "tiled/v1/props.xml"]
    assert [attrs["href"] for tag, attrs in page.tags if tag == "a" and "meta" in attrs.get("class", "")] == [
        "./tiled/v1/props.xml"
    ]
    assert image.thumbnail() == ("tiled/v1/t/8/0-0.jpg", 188, 125)  # the home's path of the one-tile level


def test_a_dzi_viewer_page_keeps_the_plain_url_picker():
    _, html = renderer().image_page(ImageInfo("a", 1500, 1000, 256, "jpg", 2))
    versions = page_settings(parse(html))["versions"]
    assert [(v["url"], v["source"]) for v in versions] == [("dzi/v0/dzi.xml",) * 2, ("dzi/v1/dzi.xml",) * 2]


def test_the_404_page_links_the_index_by_its_absolute_path_and_names_the_site():
    for base_path in ("/", "/zoom/"):
        rel, html = renderer(site_title=EVIL).not_found_page(base_path)
        assert rel == "404.html"
        tags = parse(html)
        links = [attrs["href"] for tag, attrs in tags.tags if tag == "a"]
        assert links and set(links) == {base_path}  # served at any depth, so never a relative link
        assert html.decode().count("x/&lt;script&gt;") >= 2 and "<script>alert" not in html.decode()


def test_a_site_template_folder_overrides_the_404_page(tmp_path):
    write_files(tmp_path, {"404.html": '{% extends "base.html" %}{% block main %}lost? {{ root }}{% endblock %}'})
    _, html = renderer(dirs=[tmp_path, BUILTIN_TEMPLATES]).not_found_page("/zoom/")
    assert "lost? /zoom/" in html.decode()


def test_an_image_folder_named_404_html_is_refused_rather_than_overwritten(tmp_path):
    site = make_site(tmp_path, images=("a", "404.html"))
    with pytest.raises(ConfigError, match="named like a file dzbuild writes"):
        build_site(site, progress="quiet")
    assert not (site / "_site").exists()
