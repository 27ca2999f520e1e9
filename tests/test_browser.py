"""Every viewer page of a built site in a real browser: headless Chromium (Debian's) driven by Playwright.

The built example site is served by ``http.server`` on 127.0.0.1; each page must load OpenSeadragon,
open its descriptor, finish loading with no failed request, and show pixels (not one flat colour).
Screenshots are saved under the test's tmp folder, the CI artifact. Locally the test is skipped
when Playwright, Chromium or OpenSeadragon (``npm ci``) is missing; in CI (``CI=true``) that fails.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from viewerpages import chromium

from dzbuild.site.assets import find_openseadragon
from dzbuild.site.build import build_site
from dzbuild.site.config import load_config
from dzbuild.testing import unavailable as missing
from dzbuild.testing.viewer import serve_folder

REPO = Path(__file__).resolve().parents[1]
EVIL = "odd <script>alert(1)<script> & co"  # one folder name: a file name cannot hold "/"
VIEWER_PAGES = ["harbour/", "gallery/", "gallery/dunes/", "gallery/reef/", "gallery/orchard/", "odd/"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example site, generated into a temporary folder and built, plus an image with a hostile name."""
    root = tmp_path_factory.mktemp("browser") / "site"
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "example_site" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(root)
    from sites import add_image

    add_image(root, f"odd/{EVIL}", 700, 500, 256, seed=3)
    if find_openseadragon(load_config(root)) is None:
        missing("OpenSeadragon is not installed (run `npm ci` in the repository)")
    report = build_site(root, progress="quiet")
    assert report.images == 5 and not report.warnings
    return root / "_site"


@pytest.fixture(scope="module")
def server(site):
    with serve_folder(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def open_page(browser, url: str):
    """Open ``url``; return the page and the list of every response and failed request it caused."""
    page = browser.new_page(viewport={"width": 800, "height": 600})
    seen: list[tuple[int, str]] = []
    page.on("response", lambda response: seen.append((response.status, response.url)))
    page.on("requestfailed", lambda request: seen.append((0, request.url)))
    page.goto(url)
    return page, seen


def settle(page, seen: list, quiet_ms: int = 400, limit_ms: int = 10_000) -> None:
    """Wait until no new response has arrived for ``quiet_ms`` (OpenSeadragon keeps no connection open)."""
    waited, count = 0, -1
    while count != len(seen) and waited < limit_ms:
        count = len(seen)
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


def not_blank(png: bytes) -> tuple[float, int]:
    """Standard deviation of the grey levels and the number of distinct colours of a screenshot."""
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    colours = len(np.unique(pixels.reshape(-1, 3) // 8, axis=0))
    return float(grey.std()), colours


def folder_url(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel)


@pytest.mark.parametrize("rel", VIEWER_PAGES)
def test_viewer_page_loads_every_tile_and_shows_the_picture(site, server, browser, rel, tmp_path):
    if rel == "odd/":
        rel = f"odd/{folder_url(EVIL)}/"
    page, seen = open_page(browser, server + rel)
    try:
        page.wait_for_selector('#viewer[data-state="loaded"]', timeout=30_000)
        settle(page, seen)
        png = page.locator("#viewer").screenshot()
        name = rel.strip("/").replace("/", "_").replace("%", "")[:40] or "index"
        (tmp_path / f"{name}.png").write_bytes(png)
        assert page.evaluate("typeof OpenSeadragon") == "function"
        assert page.evaluate("document.querySelectorAll('script').length") == page.evaluate(
            "document.querySelectorAll('script[src], script:not([src])').length"
        )
    finally:
        page.close()
    failed = [(status, url) for status, url in seen if not 200 <= status < 400]
    assert failed == []
    tiles = [url for status, url in seen if "_files/" in url]
    assert tiles, "no tile was requested"
    spread, colours = not_blank(png)
    assert spread > 8 and colours > 50, f"the viewer looks blank: grey std {spread:.1f}, {colours} colours"


def test_index_page_thumbnails_and_links(site, server, browser, tmp_path):
    page, seen = open_page(browser, server)
    try:
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        settle(page, seen)
        sizes = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.complete])")
        links = page.evaluate("Array.from(document.links).map(a => a.getAttribute('href'))")
        (tmp_path / "index.png").write_bytes(page.screenshot(full_page=True))
        title_text = page.evaluate("document.body.innerText")
        # every script but the filter's own (dzbuild-index.js) would be injected
        injected = page.evaluate("document.querySelectorAll('script:not([src$=\"/dzbuild-index.js\"])').length")
    finally:
        page.close()
    assert [status for status, _ in seen if not 200 <= status < 400] == []
    # the collection's card (a mosaic of its first two members' thumbnails), then the five image cards
    assert len(sizes) == 2 + 5 and all(width > 0 and done for width, done in sizes)
    from urllib.parse import unquote

    assert [unquote(link) for link in links] == [
        "./gallery/",
        "./gallery/dunes/",
        "./gallery/orchard/",
        "./gallery/reef/",
        "./harbour/",
        f"./odd/{EVIL}/",
    ]
    assert "<" not in links[-1] and " " not in links[-1]
    assert EVIL in title_text and injected == 0  # the name is shown as text, never run


def test_the_version_picker_opens_an_older_version(site, server, browser):
    page, seen = open_page(browser, server + "harbour/")
    try:
        page.wait_for_selector('#viewer[data-state="loaded"]', timeout=30_000)
        page.select_option("#version", "dzi/v0/dzi.xml")
        page.wait_for_function(
            "window.dzbuildViewer.world.getItemCount() === 1"
            " && window.dzbuildViewer.world.getItemAt(0).getFullyLoaded()"
            " && window.dzbuildViewer.world.getItemAt(0).source.tilesUrl.includes('/v0/')",
            timeout=30_000,
        )
        settle(page, seen)
    finally:
        page.close()
    assert [(status, url) for status, url in seen if not 200 <= status < 400] == []
    assert any("/harbour/dzi/v0/dzi_files/" in url for _, url in seen)
