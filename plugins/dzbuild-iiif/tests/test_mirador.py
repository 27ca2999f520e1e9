"""Mirador (npm, pinned in package.json) opens a built site's IIIF manifest and draws every canvas's tiles.

Needs Playwright, Debian's Chromium and ``npm ci``; skipped with the reason outside CI, failed under it.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from dzbuild.site.build import build_site
from dzbuild.testing import make_image_folder
from dzbuild.testing.viewer import CHROMIUM_ARGS, _QuietHandler, find_chromium

MIRADOR = Path(__file__).resolve().parents[3] / "node_modules" / "mirador" / "dist" / "mirador.min.js"
# Mirador 4.0.0 itself logs this React 19 deprecation on every start; it says nothing about our files.
MIRADOR_OWN_ERRORS = ("Accessing element.ref was removed in React 19",)
PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body style="margin:0"><div id="m" style="position:absolute;inset:0"></div>
<script src="_mirador.min.js"></script>
<script>Mirador.viewer({id: "m", windows: [{manifestId: MANIFEST, canvasIndex: INDEX}],
  window: {allowClose: false, sideBarOpen: false}, workspaceControlPanel: {enabled: false}});</script>
</body></html>"""



@pytest.fixture
def served(tmp_path):
    """A site folder and its output served on 127.0.0.1; base_url is that server's URL."""
    site = tmp_path / "site"
    output = site / "_site"
    output.mkdir(parents=True)
    handler = functools.partial(_QuietHandler, directory=str(output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def open_in_mirador(page_url: str, label: str) -> tuple[list, list, list]:
    """Load the page; return failed responses, errors and the tile URLs once the canvas ``label`` shows."""
    from playwright.sync_api import sync_playwright

    failed, errors, tiles = [], [], []

    def response(r) -> None:
        if r.status >= 400:
            failed.append((r.url, r.status))
        if r.url.endswith("/default.jpg"):
            tiles.append(r.url)

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith(MIRADOR_OWN_ERRORS):
            errors.append(message.text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("response", response)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", console)
        with page.expect_response(lambda r: r.url.endswith("/default.jpg"), timeout=30000):
            page.goto(page_url)  # returns once Mirador's OpenSeadragon asked for a tile
        page.wait_for_load_state("networkidle")
        page.wait_for_function(f"document.body.innerText.includes({json.dumps(label)})", timeout=30000)
        browser.close()
    return failed, errors, tiles


def test_mirador_opens_the_manifest_and_every_tile_it_asks_for_is_there(served):
    pytest.importorskip("playwright")
    if not MIRADOR.is_file():
        pytest.skip("Mirador is not installed: run `npm ci` (package.json pins mirador)")
    if find_chromium() is None:
        pytest.skip("no Chromium (apt-get install chromium)")

    site, url = served
    image = make_image_folder(site / "harbour", 1500, 1000, 256, seed=11)
    (image / "v1").mkdir()
    shutil.copyfile(site / "harbour/v0/0_0.jpg", image / "v1" / "1_1.jpg")  # a patch: v1 differs in one tile
    (site / "dzbuild.toml").write_text(f'base_url = "{url}/"\nformats = ["dzi", "iiif"]\n')
    build_site(site, progress="quiet", jobs=1)
    output = site / "_site"
    manifest = json.loads((output / "harbour/iiif/manifest.json").read_text())
    shutil.copyfile(MIRADOR, output / "_mirador.min.js")
    for index, label in enumerate(["v1", "v0"]):  # newest first
        html = PAGE.replace("MANIFEST", json.dumps(manifest["id"])).replace("INDEX", str(index))
        (output / "_mirador.html").write_text(html)
        failed, errors, tiles = open_in_mirador(f"{url}/_mirador.html", label)
        assert failed == [] and errors == [], (failed, errors)
        assert tiles and all(f"/harbour/iiif/{label}/" in tile for tile in tiles), tiles
