"""Compare mode in a real browser: synchronised viewports, the swipe's pixels, the changed-tile outline.

Headless Chromium through Playwright; the site (harbour with v0, v1 and v2), the server and the
checks every visit gets are in viewerpages.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import viewerpages
from viewerpages import Visit, box, shown_version, view_of

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.state import State

browser, server, site, visit = viewerpages.browser, viewerpages.server, viewerpages.site, viewerpages.visit  # fixtures


# A viewer whose animation has ended (OpenSeadragon's springs end exactly on their targets) and whose
# image has every tile of the current view drawn.
SETTLED = (
    "(which) => { const viewer = dzbuildImage.viewers[which], view = viewer.viewport, item = viewer.world.getItemAt(0);"
    " return view.getZoom(true) === view.getZoom(false) && view.getCenter(true).equals(view.getCenter(false))"
    " && item.getFullyLoaded(); }"
)


def settle(v: Visit, *which: str) -> None:
    """Wait until each viewer named has stopped moving and drawn its view, then for the next painted frame."""
    for name in which:
        v.page.wait_for_function(f"({SETTLED})({name!r})", timeout=30_000)
    next_frame(v)


def next_frame(v: Visit) -> None:
    """Wait until the browser has painted what the page changed (styles apply on the next frame)."""
    v.page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


# -- Compare ---------------------------------------------------------------------------------------------------


def test_side_by_side_viewports_move_together(visit):
    v = visit("harbour/#v=2&with=0&mode=side")
    v.wait_loaded("viewer", "viewer-b")
    left, right = box(v, "#viewer-b"), box(v, "#viewer")
    assert right["x"] >= left["x"] + left["width"] and abs(left["width"] - right["width"]) <= 2
    before = view_of(v)
    v.page.mouse.move(left["x"] + left["width"] / 3, left["y"] + left["height"] / 3)
    deadline = time.monotonic() + 30
    while v.js("dzbuildImage.viewers.b.viewport.getZoom(false)") <= before["z"] * 1.5:  # zoom in on the left one
        assert time.monotonic() < deadline, "the wheel does not zoom the viewer"
        v.page.mouse.wheel(0, -120)  # OpenSeadragon takes one wheel step per 50 ms and ignores the rest
    settle(v, "a", "b")
    a, b = view_of(v, "a"), view_of(v, "b")
    assert a == pytest.approx(b, abs=1e-9) and a["z"] > before["z"] * 1.5
    x, y = right["x"] + right["width"] / 2, right["y"] + right["height"] / 2
    v.page.mouse.move(x, y)
    v.page.mouse.down()
    v.page.mouse.move(x - 150, y - 80, steps=8)  # drag the right one
    v.page.mouse.up()
    settle(v, "a", "b")
    moved_a, moved_b = view_of(v, "a"), view_of(v, "b")
    assert moved_a == pytest.approx(moved_b, abs=1e-9) and moved_a["x"] > a["x"]
    assert (shown_version(v, "a"), shown_version(v, "b")) == ("v2", "v0")


def stage_pixels(v: Visit):
    png = v.page.locator("#stage").screenshot()
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)


def test_the_swipe_shows_one_version_left_of_the_divider_and_the_other_right(visit):
    # centred on v1's retouched sign (pixels 40..220 x 40..200 of tile 4, 1), which v0 does not have
    v = visit("harbour/#v=1&with=0&mode=swipe&split=0.5&x=0.7693&y=0.376&z=5")
    v.wait_loaded("viewer", "viewer-b")
    settle(v, "a", "b")
    split = stage_pixels(v)
    divider = v.page.get_by_role("slider")
    divider.focus()
    v.page.keyboard.press("End")  # the divider at the right: all v0
    v.page.wait_for_function("document.querySelector('[role=slider]').getAttribute('aria-valuenow') === '100'")
    next_frame(v)
    only_v0 = stage_pixels(v)
    v.page.keyboard.press("Home")  # at the left: all v1
    v.page.wait_for_function("document.querySelector('[role=slider]').getAttribute('aria-valuenow') === '0'")
    next_frame(v)
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


def test_the_default_swipe_of_the_example_shows_what_the_newer_version_changed(visit):
    """Compare chosen on the whole picture: v1's retouched tile lies right of the divider, on v1's side."""
    v = visit("harbour/#v=1&with=0&mode=swipe")  # the default split and view
    v.wait_loaded("viewer", "viewer-b")
    v.page.wait_for_timeout(500)
    split = stage_pixels(v)
    v.page.get_by_role("slider").focus()
    v.page.keyboard.press("End")  # the divider at the right: all v0
    v.page.wait_for_timeout(300)
    only_v0 = stage_pixels(v)
    changed = (np.abs(split - only_v0).max(axis=2) > 40)[40:]  # below the version labels
    width = changed.shape[1]
    # away from the divider's two places (the middle, then the right edge)
    right, left = changed[:, width // 2 + 20 : width - 40].sum(), changed[:, 40 : width // 2 - 20].sum()
    assert right > 10_000 and left == 0, (left, right)  # v1's sign (about 150 x 130 px) shows right


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
    assert drawn_outline(v, "a") == expected_outline(site, 0, 1) == {(4, 1, 1024, 256, 256, 256)}
    v.page.uncheck("#changes")
    v.page.wait_for_function("!dzbuildViewer.element.querySelector('svg.changed-tiles')")
