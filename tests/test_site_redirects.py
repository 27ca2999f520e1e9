"""``_redirects``: one ``latest`` alias per image, read back with Cloudflare's matching, merged in place."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from hostrules import follow_redirect, parse_headers_file, parse_redirects_file, response_headers
from sites import make_site, write_files

from dzbuild.site.build import build_site
from dzbuild.site.pages import ImageInfo
from dzbuild.site.previewrules import parse_redirects, redirect_for
from dzbuild.site.redirects import RedirectsWarning, aliases_as_files, render_redirects


def test_latest_alias_follows_the_newest_version_with_a_302(tmp_path):
    site = make_site(tmp_path, images=("a", "x y/b"))
    write_files(site, {"_site/_redirects": "/old /new 301\n"})
    build_site(site, progress="quiet")
    text = (site / "_site" / "_redirects").read_text()
    assert text.startswith("/old /new 301\n\n# dzbuild:begin")
    rules = parse_redirects_file(text)
    assert follow_redirect(rules, "/a/latest/dzi.xml") == ("/a/dzi/v0/dzi.xml", 302)
    assert follow_redirect(rules, "/a/latest/dzi_files/9/0_0.jpg") == ("/a/dzi/v0/dzi_files/9/0_0.jpg", 302)
    assert follow_redirect(rules, "/x%20y/b/latest/dzi.xml") == ("/x%20y/b/dzi/v0/dzi.xml", 302)
    assert follow_redirect(rules, "/old") == ("/new", 301)
    assert follow_redirect(rules, "/a/dzi/v0/dzi.xml") is None  # versioned URLs are served, never redirected
    headers = parse_headers_file((site / "_site" / "_headers").read_text())
    assert "cache-control" not in response_headers(headers, "/a/latest/dzi.xml")  # a redirect is never immutable


def test_beyond_100_deep_zoom_aliases_cloudflare_gets_descriptor_files_instead_of_splats(recwarn):
    images = [ImageInfo(f"i{n}", 9, 9, 8, "jpg", 1) for n in range(101)]
    assert parse_redirects_file(render_redirects("", "/", images, "cloudflare-pages")) == []
    assert len(parse_redirects_file(render_redirects("", "/", images, "netlify"))) == 101
    assert len(parse_redirects_file(render_redirects("", "/", images[:100], "cloudflare-pages"))) == 100
    assert not [w for w in recwarn if issubclass(w.category, RedirectsWarning)]


def test_the_sites_own_splat_redirects_count_against_cloudflares_100():
    images = [ImageInfo(f"i{n}", 9, 9, 8, "jpg", 1) for n in range(99)]
    own = "/blog/* /posts/:splat 301\n/old /new 301\n"  # one dynamic line, one static
    assert not aliases_as_files(own, images, "cloudflare-pages")
    assert aliases_as_files("/a/* /b/:splat\n" + own, images, "cloudflare-pages")
    assert aliases_as_files("", images[:1], "github-pages")  # no redirects at all there
    assert not aliases_as_files(own * 100, images, "netlify")


def test_more_than_100_aliases_of_another_viewer_format_warn_for_cloudflare_only():
    other = type("Other", (), {"name": "zoomify", "descriptor": "ImageProperties.xml"})()
    images = [ImageInfo(f"i{n}", 9, 9, 8, "jpg", 1, viewer=other) for n in range(101)]
    with pytest.warns(RedirectsWarning, match="101 redirects with a splat"):
        render_redirects("", "/", images, "cloudflare-pages")
    assert len(parse_redirects_file(render_redirects("", "/", images, "netlify"))) == 101


def test_github_pages_gets_a_latest_descriptor_naming_the_versioned_tiles_and_loses_it_with_the_host(tmp_path):
    config = 'host = "github-pages"\nbase_url = "https://zoom.example.org/z/"\n'
    site = make_site(tmp_path, config, images=("a", "x y/b"))
    build_site(site, progress="quiet")
    output = site / "_site"
    for rel, url in (("a", "a"), ("x y/b", "x%20y/b")):
        alias = ElementTree.parse(output / rel / "latest" / "dzi.xml").getroot()
        versioned = ElementTree.parse(output / rel / "dzi" / "v0" / "dzi.xml").getroot()
        assert alias.get("Url") == f"https://zoom.example.org/z/{url}/dzi/v0/dzi_files/"
        assert {k: v for k, v in alias.attrib.items() if k != "Url"} == versioned.attrib
        assert [child.attrib for child in alias] == [child.attrib for child in versioned]
        assert (output / rel / "dzi" / "v0" / "dzi_files" / "9" / "0_0.jpg").is_file()  # where Url leads
    assert "/latest/" not in (output / "_redirects").read_text()
    config = site / "dzbuild.toml"
    config.write_text(config.read_text().replace("github-pages", "netlify"))
    build_site(site, progress="quiet")
    assert not (output / "a" / "latest").exists()  # the redirect serves again: the file is gone
    rules = parse_redirects_file((output / "_redirects").read_text())
    assert follow_redirect(rules, "/z/a/latest/dzi.xml") == ("/z/a/dzi/v0/dzi.xml", 302)


def test_a_line_over_1000_characters_is_left_out():
    with pytest.warns(RedirectsWarning, match="longer than 1000"):
        text = render_redirects("", "/", [ImageInfo("x" * 600, 9, 9, 8, "jpg", 1)], "netlify")
    assert parse_redirects_file(text) == []


def test_aliases_follow_the_viewer_format_and_vacuumed_versions_of_every_format():
    from dzbuild.plugins import registry

    dzi = registry().get("format", "dzi")
    other = type("Other", (), {"name": "zoomify", "descriptor": "ImageProperties.xml"})()
    image = ImageInfo("a", 9, 9, 8, "jpg", 3, available=(2,), formats=(dzi, other), viewer=other)
    rules = parse_redirects_file(render_redirects("", "/", [image], "netlify"))
    assert follow_redirect(rules, "/a/latest/ImageProperties.xml") == ("/a/zoomify/v2/ImageProperties.xml", 302)
    assert follow_redirect(rules, "/a/dzi/v0/dzi.xml") == ("/a/dzi/v2/dzi.xml", 302)
    assert follow_redirect(rules, "/a/zoomify/v1/TileGroup0/0-0-0.jpg") == ("/a/zoomify/v2/TileGroup0/0-0-0.jpg", 302)


def test_a_iiif_service_url_redirects_to_its_info_json_with_a_303_also_under_serve():

    iiif = type("Iiif", (), {"name": "iiif", "descriptor": "info.json"})()
    dzi = __import__("dzbuild.plugins", fromlist=["registry"]).registry().get("format", "dzi")
    image = ImageInfo("x y/a", 9, 9, 8, "jpg", 3, available=(0, 2), formats=(dzi, iiif))
    text = render_redirects("", "/zoom/", [image], "cloudflare-pages")
    rules = parse_redirects_file(text)
    for n in (0, 2):
        expected = (f"/zoom/x%20y/a/iiif/v{n}/info.json", 303)
        assert follow_redirect(rules, f"/zoom/x%20y/a/iiif/v{n}") == expected  # as Cloudflare reads it
        assert redirect_for(parse_redirects(text)[0], f"/zoom/x%20y/a/iiif/v{n}") == expected  # as dzbuild serve does
    assert follow_redirect(rules, "/zoom/x%20y/a/iiif/v2/info.json") is None
    assert follow_redirect(rules, "/zoom/x%20y/a/dzi/v2") is None  # Deep Zoom has no service URL


def test_more_than_2000_service_redirects_warn_for_cloudflare_and_come_first():
    iiif = type("Iiif", (), {"name": "iiif", "descriptor": "info.json"})()
    images = [ImageInfo(f"i{n}", 9, 9, 8, "jpg", 41, formats=(iiif,)) for n in range(49)]  # 2,009 versions
    with pytest.warns(RedirectsWarning, match="2009 IIIF service redirects"):
        text = render_redirects("", "/", images, "cloudflare-pages")
    lines = parse_redirects_file(text)
    assert [code for _, _, code in lines[:2009]] == [303] * 2009 and lines[2009][2] == 302  # plain lines first
