"""``render_embed``: the one viewer markup every integration writes (parsed back, not pattern-matched)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from sites import PINNED

from dzbuild.embed import render_embed
from dzbuild.site.assets import ViewerAssets
from dzbuild.site.pages import ImageInfo

LOCAL = ViewerAssets(
    f"_dzbuild/openseadragon/{PINNED}/openseadragon.min.js", f"_dzbuild/openseadragon/{PINNED}/images/"
)


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def first(self, tag: str) -> dict:
        return next(attrs for name, attrs in self.found if name == tag)


def harbour(versions: int = 2, available=()) -> ImageInfo:
    return ImageInfo("zoom/harbour", 1500, 1000, 256, "jpg", versions, available=available)


def test_latest_version_by_its_versioned_url():
    page = Elements(render_embed(harbour(), "../zoom/harbour/", "Harbour", viewer=LOCAL, root="../"))
    viewer = page.first("div")
    config = json.loads(viewer["data-dzbuild"])
    assert config["tileSources"] == "../zoom/harbour/dzi/v1/dzi.xml"
    assert config["script"] == f"../_dzbuild/openseadragon/{PINNED}/openseadragon.min.js"
    assert config["prefixUrl"] == f"../_dzbuild/openseadragon/{PINNED}/images/"
    assert viewer["data-state"] == "thumbnail" and viewer["aria-label"] == "Harbour"
    assert "aspect-ratio:1500 / 1000" in viewer["style"]
    img = page.first("img")  # the largest one-tile level of 1500 x 1000: level 8, 188 x 125
    assert img["src"] == "../zoom/harbour/dzi/v1/dzi_files/8/0_0.jpg"
    assert (img["width"], img["height"], img["alt"]) == ("188", "125", "Harbour")


def test_a_chosen_version_height_and_caption():
    html = render_embed(harbour(), "h/", "Harbour", "30em", viewer=LOCAL, version=0, caption="First <b>light</b>")
    page = Elements(html)
    assert json.loads(page.first("div")["data-dzbuild"])["tileSources"] == "h/dzi/v0/dzi.xml"
    assert page.first("img")["src"] == "h/dzi/v0/dzi_files/8/0_0.jpg"
    assert "height:30em" in page.first("div")["style"] and "aspect-ratio" not in page.first("div")["style"]
    assert "First <b>light</b>" in "".join(page.text) and "<b>" not in html  # escaped, shown as text


def test_vacuumed_or_unknown_version_is_refused():
    with pytest.raises(ValueError, match="zoom/harbour has no published version v0"):
        render_embed(harbour(available=(1,)), "h/", "x", viewer=LOCAL, version=0)


def test_hostile_alt_stays_an_attribute_value():
    alt = "\"' onload=alert(1) <script>x</script>"
    page = Elements(render_embed(harbour(), "h/", alt, viewer=LOCAL))
    assert page.first("div")["aria-label"] == alt and page.first("img")["alt"] == alt
    assert [tag for tag, _ in page.found] == ["figure", "div", "img"]


def test_cdn_script_is_absolute_with_integrity():
    cdn = ViewerAssets("https://cdn.example/osd/openseadragon.min.js", "https://cdn.example/osd/images/", "sha384-x")
    page = Elements(render_embed(harbour(), "h/", "x", viewer=cdn, root="../"))
    config = json.loads(page.first("div")["data-dzbuild"])
    assert config["script"] == "https://cdn.example/osd/openseadragon.min.js" and config["integrity"] == "sha384-x"


def test_a_site_folder_overrides_a_plugin_folder_which_overrides_dzbuild(tmp_path):
    from dzbuild.api import hookimpl
    from dzbuild.testing import plugin_registered

    theme, own = tmp_path / "theme", tmp_path / "own"
    for folder, text in ((theme, "theme {{ alt }}"), (own, "own {{ config.tileSources }}")):
        folder.mkdir()
        (folder / "_embed.html").write_text(text)

    class Theme:
        @hookimpl
        def register_template_dirs(self, register):
            register(theme)

    with plugin_registered(Theme(), "test-theme"):
        assert render_embed(harbour(), "h/", "Harbour", viewer=LOCAL) == "theme Harbour"
        assert render_embed(harbour(), "h/", "x", viewer=LOCAL, templates=own) == "own h/dzi/v1/dzi.xml"
    assert render_embed(harbour(), "h/", "x", viewer=LOCAL).startswith('<figure class="dzbuild-embed"')
