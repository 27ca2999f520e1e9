"""The viewer pages as a visitor meets them, in headless Chromium (Debian's) driven by Playwright.

The example site, plus a v2 of ``harbour`` that retouches two more tiles, is built into a
temporary folder and served on 127.0.0.1. Every page must raise no console error and get every
request answered (tiles included) with 200. Skipped without Playwright, Chromium or OpenSeadragon
outside CI (``CI=true`` fails instead), like tests/test_browser.py.

The site asks OpenSeadragon for its canvas drawer: Chromium here renders WebGL in software, which
made the two-viewer pages load several times slower; test_browser.py keeps the default drawer.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.state import State
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.assets import find_openseadragon
from dzbuild.site.build import build_site
from dzbuild.site.config import load_config
from dzbuild.testing import synthetic_image
from dzbuild.testing.viewer import CHROMIUM_ARGS

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[1]
V2_TILES = [(3, 2), (5, 3)]  # harbour is 1500 x 1000 in 256 px tiles: 6 x 4 base tiles
LOADED = "(id) => document.getElementById(id).dataset.state === 'loaded'"


def missing(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must provide it (see .ci/run)")
    pytest.skip(reason)


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
    handler = functools.partial(Quiet, directory=str(site / "_site"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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


# -- The image page -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_viewer_fills_the_window_below_the_header_with_its_controls(visit, size):
    v = visit("harbour/", width=size[0], height=size[1])
    v.wait_loaded()
    header, viewer, canvas = box(v, "header"), box(v, "#viewer"), box(v, "#viewer .openseadragon-canvas")
    assert header["y"] == 0 and header["height"] < 0.12 * size[1]
    for rect in (viewer, canvas):
        assert (rect["x"], rect["width"]) == (0, size[0])
        assert abs(rect["y"] - (header["y"] + header["height"])) <= 1.5  # the header's 1 px border
        assert abs(rect["y"] + rect["height"] - size[1]) <= 0.5
    assert v.js("document.scrollingElement.scrollHeight") <= size[1]
    assert v.tiles() and all(status == 200 for status, _ in v.tiles())
    for name in ("Zoom in", "Zoom out", "Show the whole image", "Full screen"):
        control = v.page.get_by_role("button", name=name)
        rect = control.bounding_box()
        assert control.is_visible() and 0 <= rect["x"] and rect["x"] + rect["width"] <= size[0], name
        assert v.js(f"getComputedStyle(document.querySelector('[aria-label=\"{name}\"]').parentNode).opacity") == "1"
    overview = box(v, ".navigator")
    assert overview["width"] > 60 and overview["y"] + overview["height"] <= size[1]
    assert abs(overview["width"] / overview["height"] - 1.5) < 0.1  # the image's shape, not the window's


def test_a_url_with_a_view_restores_it_and_moving_rewrites_it(visit):
    v = visit("harbour/#v=0&x=0.25&y=0.3&z=3")
    v.wait_loaded()
    assert shown_version(v) == "v0" and v.js("document.getElementById('version').value") == "dzi/v0/dzi.xml"
    view = view_of(v)
    assert (round(view["x"], 4), round(view["y"], 4), round(view["z"], 4)) == (0.25, 0.3, 3)
    entries = v.js("history.length")
    v.js("dzbuildViewer.viewport.panTo(new OpenSeadragon.Point(0.6, 0.4 * dzbuildImage.aspect))")
    v.page.wait_for_function("location.hash.includes('x=0.60000') && location.hash.includes('y=0.40000')")
    assert v.js("history.length") == entries  # moving the view replaces the entry
    again = visit("harbour/" + v.js("location.hash"))
    again.wait_loaded()
    restored = view_of(again)
    assert shown_version(again) == "v0"
    assert (round(restored["x"], 4), round(restored["y"], 4), round(restored["z"], 3)) == (0.6, 0.4, 3)


def test_a_version_change_is_a_history_entry_and_back_forward_restore_it(visit):
    v = visit("harbour/")
    v.wait_loaded()
    assert shown_version(v) == "v2"
    v.page.select_option("#version", "dzi/v0/dzi.xml")
    v.page.wait_for_function("location.hash.includes('v=0')")
    v.wait_loaded()
    assert shown_version(v) == "v0"
    v.page.go_back()
    v.page.wait_for_function("dzbuildImage.viewers.a.world.getItemAt(0)?.source.tilesUrl.includes('/v2/')")
    assert v.js("document.getElementById('version').value") == "dzi/v2/dzi.xml"
    v.page.go_forward()
    v.page.wait_for_function("dzbuildImage.viewers.a.world.getItemAt(0)?.source.tilesUrl.includes('/v0/')")
    assert "v=0" in v.js("location.hash")


def test_keyboard_zooms_pans_and_presses_the_buttons(visit):
    v = visit("harbour/")
    v.wait_loaded()
    start = view_of(v)
    v.page.focus("#viewer .openseadragon-canvas")
    v.page.keyboard.press("Equal")
    v.page.wait_for_function(f"dzbuildViewer.viewport.getZoom() > {start['z'] * 1.05}")
    v.page.keyboard.press("ArrowRight")
    v.page.wait_for_function(f"dzbuildViewer.viewport.getCenter().x > {start['x'] + 0.01}")
    v.page.keyboard.press("Digit0")
    v.page.wait_for_function(f"Math.abs(dzbuildViewer.viewport.getZoom() - {start['z']}) < 1e-6")
    v.page.get_by_role("button", name="Zoom in").focus()
    v.page.keyboard.press("Enter")  # 1500 px wide in 1280: the most is 1.1 image pixels a screen pixel
    v.page.wait_for_function(f"dzbuildViewer.viewport.getZoom() > {start['z'] * 1.2}")


def test_every_control_has_an_accessible_name(visit):
    v = visit("harbour/#v=2&with=0&mode=swipe")
    v.wait_loaded("viewer", "viewer-b")
    unnamed = v.js(
        "Array.from(document.querySelectorAll('select, input, button, [role=button], [role=slider],"
        " [tabindex]:not([tabindex=\"-1\"])')).filter(e => !(e.getAttribute('aria-label') || '').trim())"
        ".map(e => e.outerHTML.slice(0, 80))"
    )
    assert unnamed == []
    assert v.js("document.querySelectorAll('[role=button][aria-label]').length") == 8  # 4 per viewer


def test_light_and_dark_follow_the_system(visit):
    colours = {}
    for scheme in ("light", "dark"):
        v = visit("harbour/", scheme=scheme)
        v.wait_loaded()
        colours[scheme] = v.js("getComputedStyle(document.body).backgroundColor")
    light, dark = ([int(n) for n in c[4:-1].split(",")] for c in (colours["light"], colours["dark"]))
    assert sum(light) > 600 and sum(dark) < 150


# -- Compare ---------------------------------------------------------------------------------------------------


def test_side_by_side_viewports_move_together(visit):
    v = visit("harbour/#v=2&with=0&mode=side")
    v.wait_loaded("viewer", "viewer-b")
    left, right = box(v, "#viewer-b"), box(v, "#viewer")
    assert right["x"] >= left["x"] + left["width"] and abs(left["width"] - right["width"]) <= 2
    before = view_of(v)
    v.page.mouse.move(left["x"] + left["width"] / 3, left["y"] + left["height"] / 3)
    for _ in range(3):  # zoom in on the left one
        v.page.mouse.wheel(0, -120)
        v.page.wait_for_timeout(100)
    v.page.wait_for_function(f"dzbuildImage.viewers.b.viewport.getZoom(true) > {before['z'] * 1.5}")
    v.page.wait_for_timeout(1500)  # the animation ends
    a, b = view_of(v, "a"), view_of(v, "b")
    assert a == pytest.approx(b, abs=1e-9) and a["z"] > before["z"] * 1.5
    x, y = right["x"] + right["width"] / 2, right["y"] + right["height"] / 2
    v.page.mouse.move(x, y)
    v.page.mouse.down()
    v.page.mouse.move(x - 150, y - 80, steps=8)  # drag the right one
    v.page.mouse.up()
    v.page.wait_for_timeout(1500)
    moved_a, moved_b = view_of(v, "a"), view_of(v, "b")
    assert moved_a == pytest.approx(moved_b, abs=1e-9) and moved_a["x"] > a["x"]
    assert (shown_version(v, "a"), shown_version(v, "b")) == ("v2", "v0")


def stage_pixels(v: Visit):
    png = v.page.locator("#stage").screenshot()
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)


def test_the_swipe_shows_one_version_left_of_the_divider_and_the_other_right(visit):
    # centred on v1's retouched corner (pixels 40..220 x 40..200 of tile 0, 0), which v0 does not have
    v = visit("harbour/#v=1&with=0&mode=swipe&split=0.5&x=0.0867&y=0.12&z=5")
    v.wait_loaded("viewer", "viewer-b")
    v.page.wait_for_timeout(500)
    split = stage_pixels(v)
    divider = v.page.get_by_role("slider")
    divider.focus()
    v.page.keyboard.press("End")  # the divider at the right: all v0
    v.page.wait_for_timeout(300)
    only_v0 = stage_pixels(v)
    v.page.keyboard.press("Home")  # at the left: all v1
    v.page.wait_for_timeout(300)
    only_v1 = stage_pixels(v)
    width = split.shape[1]
    left, right = slice(0, width // 2 - 20), slice(width // 2 + 20, width)
    body = slice(40, split.shape[0])  # below the version labels

    def diff(a, b):
        return float(np.abs(a - b).mean())

    assert diff(only_v0[body, left], only_v1[body, left]) > 10 and diff(only_v0[body, right], only_v1[body, right]) > 10
    assert diff(split[body, left], only_v0[body, left]) < 1.5
    assert diff(split[body, right], only_v1[body, right]) < 1.5
    assert divider.get_attribute("aria-valuenow") == "0"
    stage = box(v, "#stage")  # dragging the handle moves it
    v.page.mouse.move(stage["x"] + 2, stage["y"] + stage["height"] / 2)
    v.page.mouse.down()
    v.page.mouse.move(stage["x"] + stage["width"] / 4, stage["y"] + stage["height"] / 2, steps=5)
    v.page.mouse.up()
    assert abs(int(divider.get_attribute("aria-valuenow")) - 25) <= 1
    v.page.wait_for_function("location.hash.includes('split=0.25')")


def expected_outline(site: Path, older: int, newer: int) -> set[tuple[int, int, int, int, int, int]]:
    """(col, row, x, y, width, height) of the base tiles v{newer}'s record gives to versions above ``older``."""
    grid = load_spec(site / "harbour").grid
    base = State.owners_of(State(site / ".dzbuild" / "tree" / "harbour").record(newer))[grid.max_level]
    cols = grid.tile_counts(grid.max_level).width
    tiles = [Tile(grid.max_level, i % cols, i // cols) for i, owner in enumerate(base) if owner > older]
    return {(t.col, t.row, *grid.tile_bounds(t)) for t in tiles}


def drawn_outline(v: Visit, which: str) -> set[tuple[int, ...]]:
    rects = v.js(
        f"Array.from(dzbuildImage.viewers.{which}.element.querySelectorAll('svg.changed-tiles rect')).map(r =>"
        " [r.dataset.col, r.dataset.row, r.getAttribute('x'), r.getAttribute('y'), r.getAttribute('width'),"
        " r.getAttribute('height')].map(Number))"
    )
    return {tuple(r) for r in rects}


@pytest.mark.parametrize("older,newer", [(0, 2), (1, 2), (0, 1)])
def test_the_overlay_outlines_exactly_the_tiles_the_records_give(visit, site, older, newer):
    v = visit(f"harbour/#v={newer}&with={older}&mode=side&changes=1")
    v.wait_loaded("viewer", "viewer-b")
    expected = expected_outline(site, older, newer)
    assert expected and len(expected) == {(0, 2): 3, (1, 2): 2, (0, 1): 1}[(older, newer)]
    for which in ("a", "b"):
        v.page.wait_for_function(f"dzbuildImage.viewers.{which}.element.querySelector('svg.changed-tiles')")
        assert drawn_outline(v, which) == expected
    # the outline lies over the image: its box is the image's box on screen
    placed = v.js(
        "(() => { const viewer = dzbuildImage.viewers.a, svg = viewer.element.querySelector('svg.changed-tiles');"
        " const s = svg.getBoundingClientRect(), e = viewer.element.getBoundingClientRect();"
        " const r = viewer.viewport.viewportToViewerElementRectangle(viewer.world.getItemAt(0).getBounds(true));"
        " return [s.x - e.x, s.y - e.y, s.width, s.height, r.x, r.y, r.width, r.height]; })()"
    )
    assert placed[:4] == pytest.approx(placed[4:], abs=1.0)


def test_the_overlay_of_one_version_shows_what_it_changed(visit, site):
    v = visit("harbour/#v=1&changes=1")
    v.wait_loaded()
    v.page.wait_for_function("dzbuildViewer.element.querySelector('svg.changed-tiles rect')")
    assert drawn_outline(v, "a") == expected_outline(site, 0, 1) == {(0, 0, 0, 0, 256, 256)}
    v.page.uncheck("#changes")
    v.page.wait_for_function("!dzbuildViewer.element.querySelector('svg.changed-tiles')")


# -- The index and the collection -------------------------------------------------------------------------------


def test_the_index_shows_a_card_for_every_collection_and_image(visit):
    v = visit("")
    v.page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    cards = v.js(
        "Array.from(document.querySelectorAll('.card')).map(c => { const r = c.getBoundingClientRect();"
        " const t = c.querySelector('.thumb, .mosaic').getBoundingClientRect();"
        " return [c.getAttribute('href'), c.querySelectorAll('img').length, r.y, t.height, r.height]; })"
    )
    assert [c[0] for c in cards] == ["gallery/", "gallery/dunes/", "gallery/orchard/", "gallery/reef/", "harbour/"]
    assert all(count >= 1 for _, count, *_ in cards)  # the collection too has a picture
    assert len({round(c[3]) for c in cards}) == 1  # one thumbnail height
    images = cards[1:]
    assert len({round(c[2]) for c in images}) == 1 and len({round(c[4]) for c in images}) == 1  # one tidy row
    text = v.js("document.querySelector('a[href=\"harbour/\"]').innerText")
    assert "1500 × 1000 px" in text and "3 versions" in text


def test_the_collection_page_draws_no_black_blocks_and_a_neat_gallery(visit):
    v = visit("gallery/", scheme="dark")
    v.wait_loaded()
    v.page.wait_for_timeout(500)
    shot = cv2.imdecode(np.frombuffer(v.page.locator("#viewer").screenshot(), np.uint8), cv2.IMREAD_COLOR)
    background = [int(n) for n in v.js("getComputedStyle(document.body).backgroundColor")[4:-1].split(",")][::-1]
    items = v.js(
        "dzbuildCollection.collection.items.map(i => { const r = dzbuildViewer.viewport"
        ".viewportToViewerElementRectangle(dzbuildCollection.rect(i.n)); return [r.x, r.y, r.width, r.height]; })"
    )
    outside = np.ones(shot.shape[:2], bool)
    for x, y, w, h in items:
        outside[max(0, int(y) - 3) : int(y + h) + 4, max(0, int(x) - 3) : int(x + w) + 4] = False
    outside[:60, :200] = False  # the zoom buttons
    away = np.abs(shot[outside].astype(int) - background).max(axis=1)
    assert outside.sum() > 0.3 * outside.size and (away > 6).mean() < 0.001
    figures = v.js(
        "Array.from(document.querySelectorAll('#gallery figure')).map(f => { const r = f.getBoundingClientRect();"
        " return [r.x, r.y, r.width]; })"
    )
    assert len(figures) == 3 and len({round(f[1]) for f in figures}) == 1 and len({round(f[2]) for f in figures}) == 1


# -- The partial other templates and embeds reuse ------------------------------------------------------------------

EMBED = """{% extends "base.html" %}{% import "_viewer.html" as dzv with context %}
{% block head %}<style>.dzv { height: 300px; }</style>{% endblock %}
{% block main %}{{ dzv.box("../harbour/dzi/v1/dzi.xml", "Harbour <1>", id="one") }}
{{ dzv.box("../gallery/reef/dzi/v0/dzi.xml", "Reef") }}{% endblock %}
{% block scripts %}{{ dzv.scripts() }}{% endblock %}
"""


def test_the_viewer_partial_mounts_every_box_of_a_page(visit, site, tmp_path):
    from dzbuild.site.assets import install_viewer
    from dzbuild.site.pages import BUILTIN_TEMPLATES, Renderer

    (tmp_path / "embed.html").write_text(EMBED)
    assets, _ = install_viewer(load_config(site))
    settings = {"title": "Embeds", "viewer_options": {"drawer": "canvas"}}
    renderer = Renderer([tmp_path, BUILTIN_TEMPLATES], settings, assets)
    rel, html = renderer.render("embed.html", "embed")
    (site / "_site" / rel).parent.mkdir(exist_ok=True)
    (site / "_site" / rel).write_bytes(html)
    v = visit("embed/")
    v.page.wait_for_function("Array.from(document.querySelectorAll('.dzv')).every(e => e.dataset.state === 'loaded')")
    assert v.js("document.getElementById('one').getAttribute('aria-label')") == "Harbour <1>"
    assert v.js("Array.from(document.querySelectorAll('.dzv')).map(e => e.dzbuildViewer.world.getItemCount())") == [1, 1]
    tiles = [url for _, url in v.tiles()]
    assert any("/harbour/dzi/v1/dzi_files/" in u for u in tiles) and any("/reef/dzi/v0/dzi_files/" in u for u in tiles)
    assert all(status == 200 for status, _ in v.tiles())
