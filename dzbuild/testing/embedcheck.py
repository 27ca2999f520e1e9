"""Open a page that embeds dzbuild viewers (``[data-dzbuild]``) in headless Chromium and report.

For the site-generator integrations: whichever generator wrote the page, the viewer must start,
every request must answer, nothing may log an error, and zooming in must reach the image's
full-resolution level. Serves a folder on 127.0.0.1 (a generator's output) with ``http.server``.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .viewer import CHROMIUM_ARGS, ViewerUnavailable, _QuietHandler, find_chromium

# Zooms the first viewer in as far as it goes, and resolves once every tile in view is drawn.
_ZOOM = """async () => {
  const viewer = window.dzbuildViewers[0];
  const loaded = () => new Promise(done => {
    const check = () => {
      const item = viewer.world.getItemAt(0);
      if (item && item.getFullyLoaded()) { setTimeout(done, 50); } else { setTimeout(check, 50); }
    };
    check();
  });
  await loaded();
  viewer.viewport.zoomTo(viewer.viewport.getMaxZoom(), null, true);
  await loaded();
  return viewer.world.getItemAt(0).source.maxLevel;
}"""
DZI_TILE = re.compile(r"_files/(\d+)/\d+_\d+\.\w+$")


@dataclass
class EmbedReport:
    figures: list[dict] = field(default_factory=list)  # the attributes of every [data-dzbuild] element
    scripts: list[str] = field(default_factory=list)  # every <script src> of the page, in order
    states: list[str] = field(default_factory=list)  # data-dzbuild-state of each figure once loaded
    requested: list[str] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)  # (URL, status) of every response >= 400
    errors: list[str] = field(default_factory=list)  # page errors and console errors
    max_level: int = -1  # the source's full-resolution level
    deepest: int = -1  # the deepest DZI level a tile was requested from, after zooming in

    def tile_levels(self) -> set[int]:
        return {int(m.group(1)) for url in self.requested if (m := DZI_TILE.search(url))}


class EmbedCheck:
    """Serve ``root`` and open its pages in one headless Chromium (``executable_path`` from ``find_chromium``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._server = self._browser = self._playwright = None

    def __enter__(self) -> "EmbedCheck":
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise ViewerUnavailable("Playwright is not installed (pip install playwright)") from None
        chromium = find_chromium()
        if chromium is None:
            raise ViewerUnavailable("no Chromium found (apt-get install chromium)")
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def open(self, path: str, timeout_ms: int = 30000, javascript: bool = True) -> EmbedReport:
        """Load ``path`` (relative to the root), wait for the viewers, zoom the first one all the way in."""
        report = EmbedReport()
        context = self._browser.new_context(viewport={"width": 1000, "height": 800}, java_script_enabled=javascript)
        page = context.new_page()
        page.on("response", lambda r: _record(report, r))
        page.on("requestfailed", lambda r: report.failed.append((r.url, 0)))
        page.on("pageerror", lambda e: report.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and report.errors.append(m.text))
        try:
            page.goto(f"{self.base_url}/{path.lstrip('/')}")
            report.figures = page.eval_on_selector_all("[data-dzbuild]", _ATTRIBUTES)
            report.scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
            if javascript and report.figures:
                page.wait_for_function(
                    "[...document.querySelectorAll('[data-dzbuild]')].every("
                    "f => ['loaded', 'failed'].includes(f.dataset.dzbuildState))",
                    timeout=timeout_ms,
                )
                report.states = page.eval_on_selector_all("[data-dzbuild]", "els => els.map(e => e.dataset.dzbuildState)")
                if "failed" not in report.states:
                    report.max_level = page.evaluate(_ZOOM)
                    report.deepest = max(report.tile_levels(), default=-1)
        finally:
            context.close()
        return report


_ATTRIBUTES = """els => els.map(e => {
  const attributes = Object.fromEntries([...e.attributes].map(a => [a.name, a.value]));
  const img = e.querySelector('img');
  attributes.img = img && Object.fromEntries([...img.attributes].map(a => [a.name, a.value]));
  const caption = e.querySelector('figcaption');
  attributes.caption = caption && caption.textContent;
  return attributes;
})"""


def _record(report: EmbedReport, response) -> None:
    report.requested.append(response.url)
    if response.status >= 400:
        report.failed.append((response.url, response.status))
