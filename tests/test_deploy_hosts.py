"""The example site (Deep Zoom, IIIF and Zoomify) as Cloudflare Pages and Netlify serve it.

Cloudflare: its own runtime, ``wrangler pages dev``, answers real requests. Netlify: its own parsers
read ``_headers`` and ``_redirects``, and ``tests/hostrules.py`` applies the parsed rules the way
Netlify's documentation says. What each host must send (the README's ``_headers`` table):
versioned files immutable, pages and manifests revalidated, every file cross-origin readable, a
missing URL a 404 that no cache keeps.
"""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from bigsite import IMAGES, big_site, image_name  # noqa: F401 (big_site: the fixture)
from deployhosts import REPO, Wrangler, free_port, get, netlify_rules
from hostrules import HostRule, netlify_regex, parse_headers_file, parse_redirects_file, response_headers

from dzbuild.grid import Grid
from dzbuild.site.build import build_site
from dzbuild.testing import plugin_registered
from dzbuild.testing.viewer import open_site_page

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"


def example_site(folder, base_url: str):
    """The example site's images, built with every format into ``folder/_site``."""
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "example_site" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(folder)
    config = (folder / "dzbuild.toml").read_text(encoding="utf-8")
    config = f'formats = ["dzi", "iiif", "zoomify"]\nbase_url = "{base_url}"\n' + config
    (folder / "dzbuild.toml").write_text(config, encoding="utf-8")
    import dzbuild_iiif
    import dzbuild_zoomify

    with plugin_registered(dzbuild_iiif, "iiif"), plugin_registered(dzbuild_zoomify, "zoomify"):
        build_site(folder, progress="quiet", jobs=1)
    return folder / "_site"


@pytest.fixture(scope="module")
def cloudflare(tmp_path_factory):
    """(output folder, URL): the example site served by ``wrangler pages dev``."""
    folder = tmp_path_factory.mktemp("deploy")
    port = free_port()
    output = example_site(folder / "site", f"http://127.0.0.1:{port}/")
    server = Wrangler(output, port, folder)
    try:
        yield output, server.url
    finally:
        server.close()


def versioned_files(output):
    """For each version of harbour and a gallery image: the descriptor and a full-resolution tile of each format."""
    files = []
    for image, versions in (("harbour", (0, 1)), ("gallery/dunes", (0,))):
        for n in versions:
            dzi, iiif, zoomify = (output / image / fmt / f"v{n}" for fmt in ("dzi", "iiif", "zoomify"))
            deepest = max((p for p in (dzi / "dzi_files").iterdir()), key=lambda p: int(p.name))
            tiles = [min(deepest.iterdir()), min(p for p in iiif.glob("*,*,*,*/*/0/default.jpg")),
                     max(zoomify.glob("TileGroup*/*.jpg"))]  # fmt: skip
            files += [dzi / "dzi.xml", iiif / "info.json", zoomify / "ImageProperties.xml", *tiles]
    files += [output / "gallery/v0/gallery.dzc", *output.glob("_dzbuild/openseadragon/*/openseadragon.min.js")]
    return [path.relative_to(output).as_posix() for path in files]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links, self.title = [], ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self._in_title = tag == "title"
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def test_cloudflare_serves_versions_immutable_and_readable_from_any_origin(cloudflare):
    output, url = cloudflare
    for path in versioned_files(output):
        answer = get(f"{url}/{path}")
        assert answer.status == 200, path
        assert answer.body == (output / path).read_bytes(), path
        assert answer.headers["cache-control"] == IMMUTABLE, path
        assert answer.headers["access-control-allow-origin"] == "*", path


def test_cloudflare_revalidates_pages_and_manifests_and_lets_other_sites_read_them(cloudflare):
    output, url = cloudflare
    for path in ("", "harbour/", "gallery/", "harbour/iiif/manifest.json", "gallery/iiif/collection.json"):
        answer = get(f"{url}/{path}")
        assert answer.status == 200, path
        assert "immutable" not in answer.headers.get("cache-control", ""), path
        assert answer.headers["access-control-allow-origin"] == "*", path
    manifest = get(f"{url}/harbour/iiif/manifest.json")
    assert manifest.body == (output / "harbour/iiif/manifest.json").read_bytes()


def test_cloudflare_follows_the_latest_alias_and_the_iiif_service_url(cloudflare):
    _, url = cloudflare
    latest = get(f"{url}/harbour/latest/dzi.xml")
    assert (latest.status, latest.headers["location"]) == (302, "/harbour/dzi/v1/dzi.xml")
    assert "immutable" not in latest.headers.get("cache-control", "")
    assert latest.headers["access-control-allow-origin"] == "*"
    tile = get(f"{url}/harbour/latest/dzi_files/0/0_0.jpg")
    assert (tile.status, tile.headers["location"]) == (302, "/harbour/dzi/v1/dzi_files/0/0_0.jpg")
    service = get(f"{url}/harbour/iiif/v1")
    assert (service.status, service.headers["location"]) == (303, "/harbour/iiif/v1/info.json")
    ElementTree.fromstring(get(f"{url}{latest.headers['location']}").body)  # the target is the descriptor


@pytest.mark.parametrize("path", [
    "harbour/dzi/v1/dzi_files/11/99_99.jpg",  # a tile the version does not have
    "harbour/dzi/v2/dzi.xml",  # a version not published yet
    "harbour/iiif/v1/full/91,/0/default.jpg",  # a IIIF size the service does not offer
    "harbour/zoomify/v0/TileGroup9/0-0-0.jpg",
    "no/such/page/",
])  # fmt: skip
def test_cloudflare_answers_a_missing_url_with_the_404_page_that_no_cache_keeps(cloudflare, path):
    output, url = cloudflare
    answer = get(f"{url}/{path}")
    assert answer.status == 404
    assert "immutable" not in answer.headers.get("cache-control", "")
    assert answer.body == (output / "404.html").read_bytes()
    page = _Links()
    page.feed(answer.body.decode("utf-8"))
    assert "/" in page.links and "dzbuild example site" in page.title  # the index, from any depth


def test_an_image_page_zooms_to_full_resolution_through_wrangler_without_a_failed_request(cloudflare):
    output, url = cloudflare
    report = open_site_page(output, "harbour/", served_at=url)
    assert report.failed == [] and report.errors == []
    deepest = f"/harbour/dzi/v1/dzi_files/{Grid(1500, 1000, 256).max_level}/"
    assert any(deepest in requested for requested in report.requested)  # full resolution was drawn


@pytest.fixture(scope="module")
def netlify(tmp_path_factory):
    """(output folder, parsed headers, parsed redirects) of the example site, read by Netlify's parsers."""
    output = example_site(tmp_path_factory.mktemp("netlify") / "site", "https://zoom.example.org/")
    parsed = netlify_rules(output)
    assert parsed["headers"]["errors"] == [] and parsed["redirects"]["errors"] == []
    rules = [HostRule(rule["for"], list(rule["values"].items())) for rule in parsed["headers"]["headers"]]
    return output, rules, parsed["redirects"]["redirects"]


def test_netlify_reads_every_rule_and_sends_each_header_once(netlify):
    output, rules, _ = netlify
    ours = (output / "_headers").read_text(encoding="utf-8")
    assert len(rules) == sum(1 for line in ours.splitlines() if line.startswith("/"))
    for path in versioned_files(output):
        headers = response_headers(rules, "/" + path, host="netlify")
        assert headers["cache-control"] == [IMMUTABLE], path
        assert headers["access-control-allow-origin"] == ["*"], path
    for path in ("/", "/harbour/", "/harbour/iiif/manifest.json", "/gallery/iiif/collection.json",
                 "/harbour/latest/dzi.xml", "/harbour/changes/v1.json"):  # fmt: skip
        headers = response_headers(rules, path, host="netlify")
        assert headers["access-control-allow-origin"] == ["*"], path  # Netlify adds none by itself
        assert headers.get("cache-control", [REVALIDATE]) == [REVALIDATE], path


def test_netlify_redirects_the_latest_alias_and_the_iiif_service_url(netlify):
    _, _, redirects = netlify

    def follow(path):
        for rule in redirects:
            match = netlify_regex(rule["from"]).match(path)
            if match:
                splat = match.group(1) if match.groups() else ""
                return rule["to"].replace(":splat", splat), rule["status"], rule["force"]
        return None

    assert follow("/harbour/latest/dzi.xml") == ("/harbour/dzi/v1/dzi.xml", 302, False)
    assert follow("/harbour/iiif/v0") == ("/harbour/iiif/v0/info.json", 303, False)
    assert follow("/harbour/iiif/v1/info.json") is None  # a file is never redirected


@pytest.fixture(scope="module")
def big_cloudflare(big_site, tmp_path_factory):  # noqa: F811
    """(output folder, URL): the 2,500-image site of tests/bigsite.py served by ``wrangler pages dev``."""
    server = Wrangler(big_site / "_site", free_port(), tmp_path_factory.mktemp("bigdeploy"))
    try:
        yield big_site / "_site", server.url
    finally:
        server.close()


def test_a_2500_image_site_fits_cloudflares_rule_limits(big_cloudflare):
    output, _ = big_cloudflare
    rules = parse_headers_file((output / "_headers").read_text(encoding="utf-8"))  # at most 100 rules
    redirects = parse_redirects_file((output / "_redirects").read_text(encoding="utf-8"))
    dynamic = [source for source, _, _ in redirects if "*" in source or ":" in source]
    assert len(rules) <= 100 and len(dynamic) <= 100 and len(redirects) - len(dynamic) <= 2000
    pages = ["/", *(f"/_dzbuild/index/{n}/" for n in (2, 21))] + [f"/{image_name(n)}/" for n in range(IMAGES)]
    for page in pages:
        assert response_headers(rules, page).get("cache-control") == [REVALIDATE], page


@pytest.mark.parametrize("number", [1, 10, 1234, IMAGES - 1])
def test_every_latest_alias_of_a_2500_image_site_works_on_cloudflare(big_cloudflare, number):
    output, url = big_cloudflare
    rel = image_name(number)
    alias = get(f"{url}/{rel}/latest/dzi.xml")
    assert alias.status == 200 and "immutable" not in alias.headers.get("cache-control", "")
    tiles = ElementTree.fromstring(alias.body).get("Url")  # where OpenSeadragon fetches this descriptor's tiles
    assert tiles == f"/{rel}/dzi/v0/dzi_files/"
    tile = get(f"{url}{tiles}6/0_0.jpg")
    assert tile.status == 200 and tile.body == (output / rel / "dzi/v0/dzi_files/6/0_0.jpg").read_bytes()
    assert tile.headers["cache-control"] == IMMUTABLE
    for page in (f"/{rel}/", "/", "/_dzbuild/index/2/"):
        answer = get(url + page)
        assert answer.status == 200 and answer.headers["cache-control"] == REVALIDATE, page
