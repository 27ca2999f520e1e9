"""Open a published image in OpenSeadragon in headless Chromium and report what the viewer did.

Test support for output formats, dzbuild's own and plugins': a format is only right when a real
viewer finds every tile it asks for. Needs Playwright, a Chromium and OpenSeadragon from npm
(``npm ci`` in this repository); ``ViewerUnavailable`` says which one is missing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from ..site.assets import OSD_SCRIPT, pinned_openseadragon

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE = "_viewercheck.html"

# Every tile URL a tile source can produce.
_TILE_URLS = """
function tileUrls(source) {
  const urls = [];
  for (let level = source.minLevel; level <= source.maxLevel; level++) {
    const count = source.getNumTiles(level);
    for (let y = 0; y < count.y; y++) {
      for (let x = 0; x < count.x; x++) { urls.push(source.getTileUrl(level, x, y)); }
    }
  }
  return urls;
}
"""

# Opens ``SOURCE``, waits until every tile in view is drawn at the home zoom and at the deepest
# zoom, then lists every tile URL the tile source can produce and measures the drawn canvas.
_SCRIPT = (
    _TILE_URLS
    + """
const viewer = OpenSeadragon({id: "v", tileSources: SOURCE, drawer: "canvas", animationTime: 0,
  immediateRender: true, showNavigationControl: false, crossOriginPolicy: "Anonymous"});
function loaded() {
  return new Promise(done => {
    const check = () => {
      const item = viewer.world.getItemAt(0);
      if (item && item.getFullyLoaded()) { setTimeout(done, 50); } else { setTimeout(check, 50); }
    };
    check();
  });
}
function inked() {
  const canvas = viewer.drawer.canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) { if (data[i] + data[i + 1] + data[i + 2] > 30) ink++; }
  return ink / (data.length / 4);
}
window.viewerResult = new Promise((resolve, reject) => {
  viewer.addHandler("open-failed", event => reject(new Error("open failed: " + event.message)));
  viewer.addHandler("open", async () => {
    await loaded();
    const home = inked();
    viewer.viewport.zoomTo(viewer.viewport.getMaxZoom(), null, true);
    await loaded();
    resolve({home: home, deep: inked(), urls: tileUrls(viewer.world.getItemAt(0).source)});
  });
});
"""
)


class ViewerUnavailable(RuntimeError):
    """Playwright, Chromium or OpenSeadragon is missing; tests turn this into a skip with the reason."""


@dataclass
class ViewerReport:
    requested: list[str] = field(default_factory=list)  # every URL the page fetched
    failed: list[tuple[str, int]] = field(default_factory=list)  # (URL, status) of every response >= 400
    tile_urls: list[str] = field(default_factory=list)  # every tile URL the tile source can produce
    home_ink: float = 0.0  # share of canvas pixels that are not near-black, fully zoomed out
    deep_ink: float = 0.0  # the same at the deepest zoom
    errors: list[str] = field(default_factory=list)  # page errors and console errors


def find_openseadragon() -> Path:
    """``openseadragon.min.js`` from ``$DZBUILD_OPENSEADRAGON``, else the pinned copy a site build uses."""
    if os.environ.get("DZBUILD_OPENSEADRAGON"):
        return Path(os.environ["DZBUILD_OPENSEADRAGON"])
    pinned = pinned_openseadragon()
    if pinned is None:
        raise ViewerUnavailable("OpenSeadragon not found: run `npm ci` in the repository")
    return pinned / OSD_SCRIPT


def find_chromium() -> str | None:
    """A system Chromium (``$DZBUILD_CHROMIUM`` first), or None to use Playwright's own download."""
    return os.environ.get("DZBUILD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def start_server(folder: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` on 127.0.0.1 (``port`` 0: any free one) from a background thread, without logging."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_server(server: http.server.ThreadingHTTPServer) -> None:
    server.shutdown()  # returns once serve_forever has
    server.server_close()


@contextmanager
def serve_folder(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve ``folder`` for the duration of a block; yields its base URL, ``http://127.0.0.1:PORT/``."""
    server = start_server(folder, port)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        stop_server(server)


class BrowserSession:
    """One headless Chromium (through Playwright) and a quiet local server for ``root``: what every check needs."""

    port = 0  # 0: any free port

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._server = self._browser = self._playwright = None

    def _start(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise ViewerUnavailable("Playwright is not installed (pip install playwright)") from None
        self._server = start_server(self.root, self.port)
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - no system Chromium and no Playwright download
            self.__exit__(None, None, None)
            raise ViewerUnavailable(f"cannot start Chromium: {str(exc).splitlines()[0]}") from None

    def __exit__(self, *exc_info) -> None:
        for closer in (self._browser, self._playwright):
            if closer is not None:
                (closer.close if closer is self._browser else closer.stop)()
        if self._server is not None:
            stop_server(self._server)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"


class OpenSeadragonCheck(BrowserSession):
    """Serve ``root`` on 127.0.0.1 and open tile sources from it in one headless browser."""

    def __enter__(self) -> "OpenSeadragonCheck":
        script = find_openseadragon()
        shutil.copyfile(script, self.root / "_openseadragon.min.js")
        self._start()
        return self

    def open(self, tile_source, timeout_ms: int = 30000) -> ViewerReport:
        """Open ``tile_source`` (a URL relative to the root, or a tile source object) and report."""
        source = json.dumps(tile_source)
        html = (
            '<!doctype html><html><head><link rel="icon" href="data:,"></head><body style="margin:0">'
            '<div id="v" style="width:800px;height:600px"></div><script src="_openseadragon.min.js"></script>'
            f"<script>const SOURCE = {source};{_SCRIPT}</script></body></html>"
        )
        (self.root / PAGE).write_text(html, encoding="utf-8")
        report = ViewerReport()
        page = self._browser.new_page()
        page.on("response", lambda r: _record(report, r))
        page.on("pageerror", lambda e: report.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and report.errors.append(m.text))
        try:
            page.goto(f"{self.base_url}/{PAGE}")
            page.wait_for_function("window.viewerResult !== undefined", timeout=timeout_ms)
            result = page.evaluate("window.viewerResult")
        finally:
            page.close()
        report.tile_urls = result["urls"]
        report.home_ink, report.deep_ink = result["home"], result["deep"]
        return report

    def local_path(self, url: str) -> Path:
        """The file under the root that serves ``url`` (an absolute URL of this server or a relative one)."""
        return self.root / unquote(urlsplit(url).path).lstrip("/")


_PAGE_LOADED = (
    "window.dzbuildViewer && window.dzbuildViewer.world.getItemCount() === 1"
    " && window.dzbuildViewer.world.getItemAt(0).getFullyLoaded()"
)
_PAGE_TILE_URLS = f"(() => {{ {_TILE_URLS} return tileUrls(window.dzbuildViewer.world.getItemAt(0).source); }})()"


def open_site_page(output: Path, page: str, timeout_ms: int = 30000, served_at: str | None = None) -> ViewerReport:
    """Serve a built site's ``output``, open its viewer ``page`` (``"IMAGE/"``), zoom all the way in.

    The report lists every response, and every tile URL the page's tile source can produce, as
    the page would request it (relative to the page, or absolute as a format's descriptor says).
    ``served_at``: the site's URL when something else serves ``output`` (a host's own runtime).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ViewerUnavailable("Playwright is not installed (pip install playwright)") from None
    server = None if served_at else start_server(output)
    root = served_at.rstrip("/") if served_at else f"http://127.0.0.1:{server.server_address[1]}"
    report = ViewerReport()
    try:
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            except Exception as exc:  # noqa: BLE001 - no system Chromium and no Playwright download
                raise ViewerUnavailable(f"cannot start Chromium: {str(exc).splitlines()[0]}") from None
            tab = browser.new_page(viewport={"width": 800, "height": 600})
            tab.on("response", lambda r: _record(report, r))
            tab.on("requestfailed", lambda r: report.failed.append((r.url, 0)))
            tab.on("pageerror", lambda e: report.errors.append(str(e)))
            tab.goto(f"{root}/{page}")
            tab.wait_for_selector('#viewer[data-state="loaded"]', timeout=timeout_ms)
            tab.evaluate("window.dzbuildViewer.viewport.zoomTo(window.dzbuildViewer.viewport.getMaxZoom(), null, true)")
            tab.wait_for_function(_PAGE_LOADED, timeout=timeout_ms)
            report.tile_urls = tab.evaluate(_PAGE_TILE_URLS)
            browser.close()
    finally:
        if server is not None:
            stop_server(server)
    return report


def _record(report: ViewerReport, response) -> None:
    report.requested.append(response.url)
    if response.status >= 400:
        report.failed.append((response.url, response.status))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
        pass
