"""The pack image page in Chromium, through hosts with and without ranges, against the Deep Zoom page.

nginx (Debian's, started here on 127.0.0.1) answers Range requests with 206; ``wrangler pages
dev`` (Cloudflare's runtime, npm's wrangler pinned in package.json) and Python's own file server
answer them with 200 and the whole file. Either way the page shows
the whole image, zooms to full resolution with no failed request and no console error, and its
pixels at 1:1 are the Deep Zoom page's.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from packs import add_version

from dzbuild.site.build import build_site
from dzbuild.testing import make_image_folder, unavailable
from dzbuild.testing.viewer import CHROMIUM_ARGS, ViewerUnavailable, find_chromium, find_openseadragon, serve_folder

REPO = Path(__file__).resolve().parents[3]
WATCH = """() => {
  window.__levels = [];
  const item = window.dzbuildViewer.world.getItemAt(0);
  window.dzbuildViewer.addHandler("tile-loaded", e => window.__levels.push(e.tile.level));
  return item.source.maxLevel;
}"""
LOADED = "window.dzbuildViewer && window.dzbuildViewer.world.getItemCount() === 1" \
         " && window.dzbuildViewer.world.getItemAt(0).getFullyLoaded()"
ONE_TO_ONE = """() => {
  const viewer = window.dzbuildViewer, item = viewer.world.getItemAt(0);
  viewer.viewport.zoomTo(item.imageToViewportZoom(1), null, true);
  viewer.viewport.panTo(item.imageToViewportCoordinates(1100, 900), true);
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def nginx(root: Path, work: Path):
    """Debian's nginx serving ``root`` on a free port, with its own configuration and logs in ``work``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).is_file():
        unavailable("nginx is not installed (apt-get install nginx)")
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    who = f"{pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name}"  # workers read our files
    (work / "nginx.conf").write_text(f"""
daemon off; worker_processes 1; user {who}; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types; types {{ application/octet-stream pmtiles; }}
  access_log off; client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work};
  server {{ listen 127.0.0.1:{port}; root {root}; index index.html; }}
}}
""")
    server = subprocess.Popen([binary, "-c", str(work / "nginx.conf"), "-p", str(work)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(port, seconds=10)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def wrangler(root: Path):
    """``wrangler pages dev`` serving ``root`` on a free port, as Cloudflare Pages would."""
    binary = REPO / "node_modules" / ".bin" / "wrangler"
    if not binary.is_file():
        unavailable("wrangler is not installed (npm ci)")
    port = free_port()
    command = [str(binary), "pages", "dev", str(root), "--ip", "127.0.0.1", "--port", str(port),
               "--compatibility-date", "2025-01-01"]  # any date its runtime supports: static files only
    env = {**os.environ, "WRANGLER_SEND_METRICS": "false"}
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_for(port, seconds=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # wrangler and the workerd it started
        server.wait(timeout=20)


def wait_for(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def site(root: Path, formats: list[str], viewer: str) -> Path:
    """One 3000x2000 image with a patch, published as ``formats``; pages open ``viewer``."""
    try:
        osd = find_openseadragon().parent
    except ViewerUnavailable as exc:
        unavailable(str(exc))
    make_image_folder(root / "big", 3000, 2000, 256, seed=1)
    add_version(root / "big", 1, [(4, 3)], seed=2)
    (root / "dzbuild.toml").write_text(
        f"formats = {json.dumps(formats)}\n[viewer]\nformat = {json.dumps(viewer)}\n"
        f"openseadragon_dir = {json.dumps(str(osd))}\n", encoding="utf-8")
    build_site(root, jobs=1)
    return root / "_site"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import dzbuild_pmtiles

    from dzbuild.testing import plugin_registered

    with plugin_registered(dzbuild_pmtiles, "pmtiles"):
        packs = site(tmp_path_factory.mktemp("packs"), ["pmtiles"], "pmtiles")
    deep_zoom = site(tmp_path_factory.mktemp("dzi"), ["dzi"], "dzi")
    return packs, deep_zoom


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed")
    chromium = find_chromium()
    if chromium is None:
        unavailable("Chromium is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def view(browser, url: str) -> dict:
    """Open an image page: the whole image, then full resolution, then 1:1; what happened on the way."""
    page = browser.new_page(viewport={"width": 900, "height": 700})
    seen = {"responses": [], "failed": [], "errors": []}
    page.on("response", lambda r: seen["responses"].append((r.url, r.status)))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.goto(url)
    page.wait_for_function(LOADED, timeout=30000)
    max_level = page.evaluate(WATCH)
    seen["home"] = page.evaluate("(v => v.viewport.getHomeZoom() === v.viewport.getZoom())(window.dzbuildViewer)")
    page.evaluate("window.dzbuildViewer.viewport.zoomTo(window.dzbuildViewer.viewport.getMaxZoom(), null, true)")
    page.wait_for_function(LOADED, timeout=30000)
    seen["deepest"] = max_level in page.evaluate("window.__levels")
    page.evaluate(ONE_TO_ONE)
    page.wait_for_function(LOADED, timeout=30000)
    page.wait_for_timeout(300)
    box = page.locator(".openseadragon-canvas").first.bounding_box()
    shot = page.screenshot(clip=box)
    seen["pixels"] = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    page.close()
    return seen


def check(seen: dict, reference: dict) -> None:
    assert seen["errors"] == [] and seen["failed"] == []
    assert [(u, s) for u, s in seen["responses"] if s >= 400] == []
    assert seen["home"] and seen["deepest"]
    assert seen["pixels"].shape == reference["pixels"].shape
    assert np.array_equal(seen["pixels"], reference["pixels"])


@pytest.fixture(scope="module")
def deep_zoom_view(outputs, browser):
    with serve_folder(outputs[1]) as base:
        return view(browser, f"{base}big/")


def test_through_nginx_archives_are_read_by_range(outputs, browser, deep_zoom_view, tmp_path):
    with nginx(outputs[0], tmp_path / "nginx") as base:
        seen = view(browser, f"{base}/big/")
    check(seen, deep_zoom_view)
    archives = [(u, s) for u, s in seen["responses"] if u.endswith(".pmtiles")]
    assert archives and all(status == 206 for _, status in archives)


@pytest.mark.parametrize("host", ["wrangler", "python"])
def test_without_ranges_each_archive_is_fetched_whole_once(outputs, browser, deep_zoom_view, host):
    server = wrangler(outputs[0]) if host == "wrangler" else serve_folder(outputs[0])
    with server as base:
        seen = view(browser, f"{base.rstrip('/')}/big/")
    check(seen, deep_zoom_view)
    archives = [u for u, s in seen["responses"] if u.endswith(".pmtiles")]
    assert archives and all(s == 200 for u, s in seen["responses"] if u.endswith(".pmtiles"))
    assert len(archives) == len(set(archives))  # one whole download per archive, reused for its other tiles


BOTH_LOADED = """() => {
  const v = window.dzbuildImage && window.dzbuildImage.viewers;
  const ready = x => x.world.getItemCount() === 1 && x.world.getItemAt(0).getFullyLoaded();
  return !!(v && v.a && v.b) && ready(v.a) && ready(v.b);
}"""


def compare(browser, url: str) -> tuple[np.ndarray, list[str]]:
    """v1 beside v0 in compare mode: the two viewers' pixels and any error."""
    page = browser.new_page(viewport={"width": 1000, "height": 600})
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto(url + "#v=1&with=0&mode=side")
    page.wait_for_function(BOTH_LOADED, timeout=30000)
    page.wait_for_timeout(500)  # the second viewer takes the first's view: let any tile that asks for load
    page.wait_for_function(BOTH_LOADED, timeout=30000)
    # The pictures, not the buttons: OpenSeadragon fades its controls on a timer, whatever the tiles.
    page.add_style_tag(content=".openseadragon-container [title] { visibility: hidden !important; }")
    shots = [page.locator(selector).screenshot() for selector in ("#viewer", "#viewer-b")]  # not the header
    pixels = np.hstack([cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR) for shot in shots])
    page.close()
    return pixels, problems


def test_compare_mode_opens_two_pack_versions_side_by_side_as_deep_zoom_does(outputs, browser):
    with serve_folder(outputs[0]) as packs, serve_folder(outputs[1]) as deep_zoom:
        seen, problems = compare(browser, f"{packs}big/")
        expected, _ = compare(browser, f"{deep_zoom}big/")
    assert problems == []
    assert np.array_equal(seen, expected)
