"""Fixtures and helpers for the viewer-page browser tests (test_viewer_pages.py, test_viewer_compare.py).

The example site, plus a v2 of ``harbour`` that retouches two more tiles, is built into a
temporary folder and served on 127.0.0.1 to headless Chromium (Debian's) driven by Playwright.
Every page a test visits must raise no console error and get every request answered (tiles
included) with 200. Skipped without Playwright, Chromium or OpenSeadragon outside CI
(``CI=true`` fails instead), like tests/test_browser.py.

The site asks OpenSeadragon for its canvas drawer: Chromium here renders WebGL in software, which
made the two-viewer pages load several times slower; test_browser.py keeps the default drawer.
"""

from __future__ import annotations

import importlib.util
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.assets import find_openseadragon
from dzbuild.site.build import build_site
from dzbuild.site.config import load_config
from dzbuild.testing import synthetic_image
from dzbuild.testing import unavailable as missing  # fails in CI, skips elsewhere
from dzbuild.testing.viewer import CHROMIUM_ARGS, find_chromium, serve_folder

CHROMIUM = find_chromium() or "/usr/bin/chromium"  # $DZBUILD_CHROMIUM first, as every browser test
REPO = Path(__file__).resolve().parents[1]
V2_TILES = [(3, 2), (5, 3)]  # harbour is 1500 x 1000 in 256 px tiles: 6 x 4 base tiles
LOADED = "(id) => document.getElementById(id).dataset.state === 'loaded'"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("viewerpages") / "site"
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "example_site" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(root)
    config = root / "dzbuild.toml"
    config.write_text(config.read_text() + 'options = { drawer = "canvas" }\n')  # inside [viewer], the last table
    harbour = load_spec(root / "harbour")
    top = harbour.grid.max_level
    picture = synthetic_image(harbour.width, harbour.height, seed=70)
    write_tiles(root / "harbour" / "v2", picture, harbour, [Tile(top, c, r) for c, r in V2_TILES])
    if find_openseadragon(load_config(root)) is None:
        missing("OpenSeadragon is not installed (run `npm ci` in the repository)")
    report = build_site(root, progress="quiet")
    assert report.images == 4 and not report.warnings
    return root


@pytest.fixture(scope="module")
def server(site):
    with serve_folder(site / "_site") as url:
        yield url


@contextmanager
def chromium():
    """Debian's Chromium through Playwright, for the browser tests' fixtures; a missing tool fails in CI."""
    if not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


class Visit:
    """One page and everything that went wrong on it: console errors, page errors, failed requests."""

    def __init__(self, browser, url: str, width=1280, height=900, scheme="light") -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
        self.problems: list[str] = []
        self.responses: list[tuple[int, str]] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url}"))
        self.page.on("response", self._response)
        self.page.goto(url)

    def _response(self, response) -> None:
        self.responses.append((response.status, response.url))
        if response.status != 200 and not (response.status == 304 and "_files/" not in response.url):
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def wait_loaded(self, *ids: str) -> None:
        for element in ids or ("viewer",):
            self.page.wait_for_function(f"({LOADED})({element!r})", timeout=60_000)

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def close(self) -> None:
        self.page.close()
        assert self.problems == []

    def tiles(self) -> list[tuple[int, str]]:
        return [(status, url) for status, url in self.responses if "_files/" in url]


@pytest.fixture
def visit(browser, server):
    opened: list[Visit] = []

    def open_(path: str, **kwargs) -> Visit:
        opened.append(Visit(browser, server + path, **kwargs))
        return opened[-1]

    yield open_
    for one in opened:
        one.close()


def view_of(v: Visit, which: str = "a") -> dict:
    return v.js(
        f"(() => {{ const vp = dzbuildImage.viewers.{which}.viewport, c = vp.getCenter(true);"
        " return {x: c.x, y: c.y / dzbuildImage.aspect, z: vp.getZoom(true)}; })()"
    )


def shown_version(v: Visit, which: str = "a") -> str:
    url = v.js(f"dzbuildImage.viewers.{which}.world.getItemAt(0).source.tilesUrl")  # dzi/v{n}/dzi_files/
    return re.search(r"(?:^|/)dzi/(v[0-9]+)/dzi_files/$", url).group(1)


def box(v: Visit, selector: str) -> dict:
    return v.page.locator(selector).first.bounding_box()
