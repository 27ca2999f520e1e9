"""A site whose viewer pages open Zoomify: the page's OpenSeadragon finds every tile it asks for."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from dzbuild.site.build import build_site
from dzbuild.testing import make_image_folder
from dzbuild.testing.viewer import CHROMIUM_ARGS, ViewerUnavailable, find_chromium, find_openseadragon

LOADED = (
    "window.dzbuildViewer && window.dzbuildViewer.world.getItemCount() === 1"
    " && window.dzbuildViewer.world.getItemAt(0).getFullyLoaded()"
)

ALL_TILE_URLS = """(() => {
  const source = window.dzbuildViewer.world.getItemAt(0).source, urls = [];
  for (let level = source.minLevel; level <= source.maxLevel; level++) {
    const count = source.getNumTiles(level);
    for (let y = 0; y < count.y; y++) {
      for (let x = 0; x < count.x; x++) { urls.push(source.getTileUrl(level, x, y)); }
    }
  }
  return urls;
})()"""


def make_zoomify_site(root):
    try:
        osd = find_openseadragon().parent
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    make_image_folder(root / "wide", 1497, 515, 256, seed=5)
    v1 = make_image_folder(root.parent / "other", 1497, 515, 256, seed=6) / "v0"
    (root / "wide" / "v1").mkdir()
    (root / "wide" / "v1" / "0_0.jpg").write_bytes((v1 / "0_0.jpg").read_bytes())  # a patch: one new base tile
    (root / "dzbuild.toml").write_text(
        f'formats = ["dzi", "zoomify"]\n[viewer]\nformat = "zoomify"\nopenseadragon_dir = {json.dumps(str(osd))}\n',
        encoding="utf-8",
    )
    return root


def serve(folder):
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_viewer_pages_open_zoomify_and_every_tile_is_served(tmp_path):
    site = make_zoomify_site(tmp_path / "site")
    build_site(site, progress="quiet", jobs=1)
    output = site / "_site"
    page_html = (output / "wide" / "index.html").read_text(encoding="utf-8")
    assert '"type": "zoomifytileservice"' in page_html and '"tilesUrl": "zoomify/v1/"' in page_html
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed")
    httpd = serve(output)
    seen: list[tuple[int, str]] = []
    try:
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            except Exception as exc:  # noqa: BLE001 - no Chromium on this machine
                pytest.skip(f"cannot start Chromium: {str(exc).splitlines()[0]}")
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.on("response", lambda r: seen.append((r.status, r.url)))
            page.on("requestfailed", lambda r: seen.append((0, r.url)))
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/wide/")
            page.wait_for_selector('#viewer[data-state="loaded"]', timeout=30_000)
            page.evaluate(
                "window.dzbuildViewer.viewport.zoomTo(window.dzbuildViewer.viewport.getMaxZoom(), null, true)"
            )
            page.wait_for_function(LOADED, timeout=30_000)
            source = page.evaluate("window.dzbuildViewer.world.getItemAt(0).source.tilesUrl")
            every_tile = page.evaluate(ALL_TILE_URLS)
            page.select_option("#version", index=0)  # the picker's value is the v0 tile source, as JSON
            page.wait_for_function(
                LOADED + " && window.dzbuildViewer.world.getItemAt(0).source.tilesUrl.includes('/v0/')", timeout=30_000
            )
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert source == "zoomify/v1/"
    assert every_tile and [url for url in every_tile if not (output / "wide" / url).is_file()] == []
    assert [(status, url) for status, url in seen if status != 200] == []
    tiles = [url for _, url in seen if "/TileGroup" in url]
    assert any("/zoomify/v1/TileGroup0/" in url for url in tiles) and any("/zoomify/v0/" in url for url in tiles)
    assert not any("dzi_files" in url for _, url in seen)  # the page opened Zoomify, not the DZI


def test_the_image_page_names_its_zoomify_link_as_people_write_it(tmp_path):
    from html.parser import HTMLParser

    site = tmp_path / "site"
    make_image_folder(site / "wide", 600, 300, 256, seed=5)
    config = 'formats = ["dzi", "zoomify"]\n[viewer]\nformat = "zoomify"\nopenseadragon = "cdn"\n'
    (site / "dzbuild.toml").write_text(config, encoding="utf-8")
    build_site(site, progress="quiet", jobs=1)

    class Links(HTMLParser):
        texts, href = {}, None

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.href = dict(attrs)["href"]
                self.texts[self.href] = ""

        def handle_endtag(self, tag):
            self.href = None if tag == "a" else self.href

        def handle_data(self, data):
            if self.href:
                self.texts[self.href] += data

    parser = Links()
    parser.feed((site / "_site/wide/index.html").read_text(encoding="utf-8"))
    assert parser.texts["./zoomify/v0/ImageProperties.xml"] == "Zoomify"
