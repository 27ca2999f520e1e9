"""The collection page: shared tiles when zoomed out, each item's own DZI when zoomed in, sprites for galleries.

The browser test serves a built collection over 127.0.0.1 to headless Chromium and counts the tile
requests of the zoomed-out view. It needs OpenSeadragon from npm (``npm ci``) and Playwright with a
Chromium; without them it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import jinja2
import numpy as np
import pytest
from imagedirs import make_image_dir, stitch

from dzbuild.collection import build_collection
from dzbuild.collection.sprites import collection_sprites
from dzbuild.grid import Grid
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import unavailable
from dzbuild.testing.viewer import (  # CHROMIUM_ARGS: what this closed network needs
    CHROMIUM_ARGS,
    start_server,
    stop_server,
)

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "dzbuild" / "templates"
OSD_BUILD = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon"
CHROMIUM = os.environ.get("DZBUILD_CHROMIUM", "/usr/bin/chromium")
ITEMS = 20
SHAPES = [(64 + 37 * i % 237, 64 + 53 * i % 237, (32, 64, 256)[i % 3]) for i in range(ITEMS)]  # 64..300 px


def psnr(a, b) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """A served folder: ITEMS member images, a collection of them in ``coll/``, and its page."""
    root = tmp_path_factory.mktemp("site")
    members = []
    for i, (w, h, t) in enumerate(SHAPES):
        image_dir, _, _ = make_image_dir(root / "images", w, h, t, seed=i)
        build_pyramid(image_dir, options=BuildOptions(jobs=1))
        members.append((image_dir.name, image_dir / "dest"))
    report = build_collection(root / "coll", "g", members, jobs=2)
    titles = [f"<script>alert({i})</script> {key}" if i == 0 else key for i, (key, _) in enumerate(members)]
    page = render_page(root / "coll", report.latest_descriptor, members, titles)
    (root / "coll" / "index.html").write_text(page, encoding="utf-8")
    return {"root": root, "members": members, "descriptor": report.latest_descriptor, "page": page}


def render_page(page_dir: Path, descriptor: Path, members, titles) -> str:
    """Render the template with the variables the site build passes (see dzbuild/site/pages.py)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path, page_dir)).as_posix()

    items = [
        {"key": key, "title": title, "url": rel(dest.parent) + "/", "dzi": rel(dest / "dzi" / "v0" / "dzi.xml")}
        for (key, dest), title in zip(members, titles, strict=True)
    ]
    return env.get_template("collection.html").render(
        site={"title": "Test site", "viewer_options": {}},
        root="../",
        osd={"script": "../osd/openseadragon.min.js", "images": "../osd/images/", "integrity": None},
        collection={"name": "g", "title": "Gallery <b>", "descriptor": rel(descriptor)},
        items=items,
    )


def test_page_escapes_names_and_points_at_the_descriptor(site):
    page = site["page"]
    assert "<script>alert(0)" not in page and "&lt;script&gt;alert(0)" in page
    assert "Gallery &lt;b&gt;" in page
    assert '"v0/g.dzc"' in page  # the descriptor URL, as JSON inside the script


def test_python_sprites_cut_each_thumbnail_from_its_shared_tile(site):
    page_dir = site["root"] / "index-page"
    sprites = collection_sprites(site["descriptor"], page_dir, level=6)
    assert len(sprites) == ITEMS and len({s.url for s in sprites}) == 2  # 20 items, 16 per level-6 tile
    for sprite, (_, dest) in zip(sprites, site["members"], strict=True):
        assert sprite.source == f"../images/{dest.parent.name}/dest/dzi/v0/dzi.xml"
        assert 'background:url("../coll/v0/g_files/6/' in sprite.style
        tile = cv2.imread(os.path.normpath(page_dir / sprite.url))
        found = tile[sprite.y : sprite.y + sprite.height, sprite.x : sprite.x + sprite.width]
        spec_w, spec_h, spec_t = SHAPES[sprite.id]
        grid = Grid(spec_w, spec_h, spec_t)
        assert psnr(found, stitch(dest, 0, grid, min(6, grid.max_level))) > 27


# -- In a real browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_page(site, tmp_path_factory):
    if not (OSD_BUILD / "openseadragon.min.js").is_file():
        unavailable("OpenSeadragon is not installed: run `npm ci` in the repository")
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (set DZBUILD_CHROMIUM)")
    shutil.copytree(OSD_BUILD, site["root"] / "osd")
    # dzbuild-viewer.js (names the buttons), where a site build copies it
    shutil.copytree(TEMPLATES / "assets", site["root"] / "_dzbuild" / "assets")
    server = start_server(site["root"])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800}, device_scale_factor=1)
        responses = []
        page.on("response", lambda response: responses.append((response.url, response.status)))
        base = f"http://127.0.0.1:{server.server_address[1]}"
        yield {"page": page, "responses": responses, "base": base, "shots": tmp_path_factory.mktemp("screenshots")}
        browser.close()
    stop_server(server)


def test_zoomed_out_view_needs_a_handful_of_shared_tiles(browser_page, site):
    page, responses = browser_page["page"], browser_page["responses"]
    page.goto(f"{browser_page['base']}/coll/index.html")
    page.wait_for_function("document.getElementById('viewer').dataset.state === 'loaded'", timeout=30000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(browser_page["shots"] / "collection-zoomed-out.png"))
    assert all(status < 400 for _, status in responses), [r for r in responses if r[1] >= 400]
    tiles = {u for u, _ in responses if "/coll/v0/g_files/" in u}  # distinct URLs: sprites share them
    sprite_tiles = {u for u in tiles if "/g_files/6/" in u}
    member_files = [u for u, _ in responses if "/images/img" in u]
    print(f"\nzoomed-out view of {ITEMS} items: {len(tiles)} shared tiles requested"
          f" ({len(sprite_tiles)} of them at level 6, also used by the gallery sprites): {sorted(tiles)}")  # fmt: skip
    assert not member_files, "zoomed out, no item's own DZI is opened"
    assert 1 <= len(tiles) <= 12
    pixels = cv2.imdecode(np.frombuffer(page.locator("#viewer").screenshot(), np.uint8), cv2.IMREAD_COLOR)
    assert pixels.std() > 20, "the viewer shows the thumbnails, not a blank canvas"


def test_gallery_sprites_show_each_items_thumbnail(browser_page, site):
    page = browser_page["page"]
    sprites = page.locator(".dzc-sprite[data-n]")
    assert sprites.count() == ITEMS
    for n in (0, 7, 19):
        w, h, t = SHAPES[n]
        grid = Grid(w, h, t)
        own = stitch(site["members"][n][1], 0, grid, min(6, grid.max_level))
        box = sprites.nth(n).bounding_box()
        assert (round(box["width"]), round(box["height"])) == (own.shape[1], own.shape[0])
        clip = {"x": round(box["x"]), "y": round(box["y"]), "width": own.shape[1], "height": own.shape[0]}
        shot = cv2.imdecode(np.frombuffer(page.screenshot(clip=clip, full_page=True), np.uint8), cv2.IMREAD_COLOR)
        assert psnr(shot, own) > 25, f"sprite {n}"


def test_zooming_in_opens_the_items_own_dzi_over_its_cell(browser_page, site):
    page, responses = browser_page["page"], browser_page["responses"]
    before = len(responses)
    page.evaluate("dzbuildViewer.viewport.fitBounds(dzbuildCollection.rect(5), true)")
    page.wait_for_function("dzbuildCollection.items().includes(5) && dzbuildCollection.itemsLoaded()", timeout=30000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(browser_page["shots"] / "collection-zoomed-in.png"))
    member = site["members"][5][1].parent.name
    fetched = [u for u, status in responses[before:] if f"/images/{member}/dest/dzi/v0/" in u and status == 200]
    assert any(u.endswith("dzi.xml") for u in fetched) and any("/dzi_files/" in u for u in fetched)
    assert all(status < 400 for _, status in responses[before:])
    page.evaluate("dzbuildViewer.viewport.goHome(true)")
    page.wait_for_function("dzbuildCollection.items().length === 0", timeout=10000)
