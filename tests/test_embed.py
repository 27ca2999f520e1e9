"""``render_embed``: the one viewer markup every integration writes (parsed back, not pattern-matched)."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser

import pytest
from sites import PINNED

from dzbuild.embed import embed_parts, render_embed, script_tag
from dzbuild.errors import ConfigError
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
    assert json.loads(viewer["data-dzbuild"]) == {  # what the viewer script reads, and nothing it loads
        "tileSources": "../zoom/harbour/dzi/v1/dzi.xml",
        "prefixUrl": f"../_dzbuild/openseadragon/{PINNED}/images/",
        "options": {},
    }
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


def test_the_script_tag_names_openseadragon_relative_to_itself_or_on_a_cdn_with_integrity():
    local = Elements(script_tag("/zoom/_dzbuild/assets/dzbuild-viewer.js", LOCAL, "_dzbuild/assets")).first("script")
    assert local == {
        "src": "/zoom/_dzbuild/assets/dzbuild-viewer.js",
        "data-openseadragon": f"../openseadragon/{PINNED}/openseadragon.min.js",
    }
    cdn = ViewerAssets("https://cdn.example/osd/openseadragon.min.js", "https://cdn.example/osd/images/", "sha384-x")
    tag = Elements(script_tag("../_static/dzbuild-viewer.js", cdn, "_static")).first("script")
    assert tag["data-openseadragon"] == cdn.script and tag["data-integrity"] == "sha384-x"
    embed = Elements(render_embed(harbour(), "h/", "x", viewer=cdn, root="../"))
    config = json.loads(embed.first("div")["data-dzbuild"])
    assert config["prefixUrl"] == "https://cdn.example/osd/images/" and "script" not in config


HOSTILE = [
    "\"' onload=alert(1) <script>x</script>",
    "x\",\"script\":\"https://evil.example/x.js",
    "</figcaption><script src=https://evil.example/x.js></script>",
    "&amp; &lt;b&gt; {{ alt }} <\x00alt\x00>",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_parts_leave_alt_and_caption_as_data_whatever_they_hold(value):
    """What a shortcode does with the parts, done here: the values stay text in their attributes and caption."""
    parts = embed_parts(harbour(), "h/", caption=True, viewer=LOCAL)
    assert parts[1::2] == ["alt", "alt", "caption"]
    filled = "".join(html.escape(value) if i % 2 else part for i, part in enumerate(parts))
    page = Elements(filled)
    assert [tag for tag, _ in page.found] == ["figure", "div", "img", "figcaption"]
    assert page.first("div")["aria-label"] == page.first("img")["alt"] == value and "".join(page.text).strip() == value
    plain = Elements(render_embed(harbour(), "h/", "alt", viewer=LOCAL))
    assert json.loads(page.first("div")["data-dzbuild"]) == json.loads(plain.first("div")["data-dzbuild"])


def test_parts_without_a_caption_have_no_caption_slot():
    parts = embed_parts(harbour(), "h/", caption=False, viewer=LOCAL)
    assert parts[1::2] == ["alt", "alt"] and "figcaption" not in "".join(parts)


def test_a_template_that_filters_alt_is_refused_with_its_file(tmp_path):
    (tmp_path / "_embed.html").write_text("<div aria-label='{{ alt|upper }}'></div>")
    with pytest.raises(ConfigError, match=r"_embed\.html: write alt and caption as \{\{ alt \}\}"):
        embed_parts(harbour(), "h/", caption=False, viewer=LOCAL, templates=tmp_path)


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
