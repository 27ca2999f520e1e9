"""The image page, the index, the collection page and the viewer partial, as a visitor meets them.

Headless Chromium through Playwright; the site, the server and the checks every visit gets are in
viewerpages.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import viewerpages
from viewerpages import box, shown_version, view_of

browser, server, site, visit = viewerpages.browser, viewerpages.server, viewerpages.site, viewerpages.visit  # fixtures


# -- The image page -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,size,shape",
    [("harbour/", (1280, 900), 1.5), ("harbour/", (390, 844), 1.5), ("gallery/reef/", (390, 844), 640 / 960)],
    ids=["desktop", "phone", "phone-one-version"],
)
def test_the_viewer_fills_the_window_below_the_header_with_its_controls(visit, path, size, shape):
    v = visit(path, width=size[0], height=size[1])
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
    assert abs(overview["width"] / overview["height"] - shape) < 0.1  # the image's shape, not the window's


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


# -- The index and the collection -------------------------------------------------------------------------------


def test_the_index_shows_a_card_for_every_collection_and_image(visit):
    v = visit("")
    v.page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    cards = v.js(
        "Array.from(document.querySelectorAll('.card')).map(c => { const r = c.getBoundingClientRect();"
        " const t = c.querySelector('.thumb, .mosaic').getBoundingClientRect();"
        " return [c.getAttribute('href'), c.querySelectorAll('img').length, r.y, t.height, r.height]; })"
    )
    names = ["gallery/", "gallery/dunes/", "gallery/orchard/", "gallery/reef/", "harbour/"]
    assert [c[0] for c in cards] == [f"./{name}" for name in names]  # relative URLs from names start with ./
    assert all(count >= 1 for _, count, *_ in cards)  # the collection too has a picture
    assert len({round(c[3]) for c in cards}) == 1  # one thumbnail height
    images = cards[1:]
    assert len({round(c[2]) for c in images}) == 1 and len({round(c[4]) for c in images}) == 1  # one tidy row
    text = v.js("document.querySelector('a[href=\"./harbour/\"]').innerText")
    assert "1500 × 1000 px" in text and "3 versions" in text


def test_index_thumbnails_fill_their_cards_alike(visit):
    """A landscape and a portrait image each cover the whole thumbnail area of their card."""
    v = visit("")
    v.page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    boxes = v.js(
        "Array.from(document.querySelectorAll('.thumb')).map(t => { const a = t.getBoundingClientRect(),"
        " b = t.querySelector('img').getBoundingClientRect(), i = t.querySelector('img');"
        " return [a.width, a.height, b.width, b.height, i.naturalWidth / i.naturalHeight]; })"
    )
    shapes = [ratio for *_, ratio in boxes]
    assert len(boxes) == 4 and min(shapes) < 1 < max(shapes)  # portrait and landscape thumbnails
    for area_w, area_h, img_w, img_h, _ in boxes:
        assert abs(img_w - area_w) <= 1 and abs(img_h - area_h) <= 1, boxes


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
    for x, y, w, h in v.js(  # the buttons, where dzbuild's viewer puts them on every page (top right)
        "Array.from(document.querySelectorAll('#viewer [role=button]')).map(b => { const r = b.getBoundingClientRect(),"
        " v = document.getElementById('viewer').getBoundingClientRect();"
        " return [r.x - v.x, r.y - v.y, r.width, r.height]; })"
    ):
        outside[max(0, int(y) - 2) : int(y + h) + 3, max(0, int(x) - 2) : int(x + w) + 3] = False
    away = np.abs(shot[outside].astype(int) - background).max(axis=1)
    assert outside.sum() > 0.3 * outside.size and (away > 6).mean() < 0.001
    figures = v.js(
        "Array.from(document.querySelectorAll('#gallery figure')).map(f => { const r = f.getBoundingClientRect();"
        " return [r.x, r.y, r.width]; })"
    )
    assert len(figures) == 3 and len({round(f[1]) for f in figures}) == 1 and len({round(f[2]) for f in figures}) == 1
    names = v.js("Array.from(document.querySelectorAll('#viewer [role=button]')).map(b => b.ariaLabel)")
    assert names == ["Zoom in", "Zoom out", "Show the whole image", "Full screen"]


def test_the_full_screen_button_shows_both_compared_versions_full_screen(visit):
    v = visit("harbour/#v=2&with=0&mode=side", width=1000, height=700)
    v.wait_loaded("viewer", "viewer-b")
    v.page.get_by_role("button", name="Full screen").first.click()
    v.page.wait_for_function("document.fullscreenElement && document.fullscreenElement.id === 'stage'")
    stage = box(v, "#stage")
    assert (stage["x"], stage["y"], stage["width"], stage["height"]) == (0, 0, 1000, 700)
    v.page.get_by_role("button", name="Full screen").first.click()
    v.page.wait_for_function("!document.fullscreenElement")
