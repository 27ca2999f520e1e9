"""The image page's controls on an embed: an mkdocs page's viewer has the same named buttons, keyboard,
element full screen and fitted overview, since both are the one dzbuild-viewer.js.

The real ``mkdocs build`` (default theme) of a page with one image, served on 127.0.0.1 to headless
Chromium; every visit gets viewerpages.py's checks (no console error, every request answered).
"""

from __future__ import annotations

import pytest
import viewerpages
from test_integration_mkdocs import make_project, mkdocs_build
from viewerpages import Visit

from dzbuild.testing.viewer import serve_folder

browser = viewerpages.browser  # fixture
VIEWER = "document.querySelector('[data-dzbuild]').dzbuildViewer"
BUTTONS = ["Zoom in", "Zoom out", "Show the whole image", "Full screen"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("embed"), "  name: mkdocs\n  highlightjs: false\n")
    mkdocs_build(root)
    with serve_folder(root / "site") as url:
        yield url


@pytest.fixture
def visit(browser, server):
    opened: list[Visit] = []

    def open_(path: str = "", **kwargs) -> Visit:
        opened.append(Visit(browser, server + path, **kwargs))
        opened[-1].page.wait_for_function("document.querySelector('[data-dzbuild]').dataset.state === 'loaded'")
        return opened[-1]

    yield open_
    for one in opened:
        one.close()


def test_every_control_has_a_name_and_the_overview_has_the_images_shape(visit):
    v = visit()
    names = v.js("Array.from(document.querySelectorAll('[data-dzbuild] [role=button]')).map(b => b.ariaLabel)")
    assert names == BUTTONS
    for name in BUTTONS:
        button = v.page.get_by_role("button", name=name)
        assert button.is_visible() and button.get_attribute("tabindex") == "0", name
    canvas = v.page.locator("[data-dzbuild] .openseadragon-canvas").first
    assert canvas.get_attribute("role") == "application" and canvas.get_attribute("aria-roledescription")
    assert canvas.get_attribute("aria-label").startswith("Harbour at dusk. ")
    overview = v.page.locator("[data-dzbuild] .navigator").first.bounding_box()
    assert overview["width"] > 60 and abs(overview["width"] / overview["height"] - 900 / 600) < 0.1


def test_keyboard_zooms_pans_and_presses_the_buttons(visit):
    v = visit()
    start = v.js(f"(() => {{ const vp = {VIEWER}.viewport; return {{z: vp.getZoom(), x: vp.getCenter().x}}; }})()")
    v.page.focus("[data-dzbuild] .openseadragon-canvas")
    v.page.keyboard.press("Equal")
    v.page.wait_for_function(f"{VIEWER}.viewport.getZoom() > {start['z'] * 1.05}")
    v.page.keyboard.press("ArrowRight")
    v.page.wait_for_function(f"{VIEWER}.viewport.getCenter().x > {start['x'] + 0.01}")
    v.page.keyboard.press("Digit0")
    v.page.wait_for_function(f"Math.abs({VIEWER}.viewport.getZoom() - {start['z']}) < 1e-6")
    v.page.get_by_role("button", name="Zoom in").focus()
    v.page.keyboard.press("Enter")  # 900 px wide in 831: the most is 1.1 image pixels a screen pixel
    v.page.wait_for_function(f"{VIEWER}.viewport.getZoom() > {start['z'] * 1.15}")


def test_the_full_screen_button_shows_the_embed_full_screen_and_back(visit):
    v = visit(width=1000, height=700)
    v.page.get_by_role("button", name="Full screen").click()
    v.page.wait_for_function("document.fullscreenElement === document.querySelector('[data-dzbuild]')")
    box = v.page.locator("[data-dzbuild]").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 1000, 700)
    v.page.get_by_role("button", name="Full screen").click()
    v.page.wait_for_function("!document.fullscreenElement")
