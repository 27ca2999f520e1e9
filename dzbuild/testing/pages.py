"""Open pages with inline viewers (``templates/_embed.html``) in headless Chromium and report.

Test support for the site-generator integrations, dzbuild's and plugins': a generator's page is
only right when every viewer on it starts, every tile it asks for answers 200, nothing logs an
error and zooming in reaches the full-resolution level.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .viewer import BrowserSession

# Zooms viewer ``i`` of the page to its deepest level; once every tile in view is drawn, resolves to the
# URL of the folder that holds that level's tiles.
_ZOOM = """async (i) => {
  const element = document.querySelectorAll("[data-dzbuild]")[i];
  const viewer = element.dzbuildViewer;
  viewer.viewport.zoomTo(viewer.viewport.getMaxZoom(), null, true);
  const item = viewer.world.getItemAt(0);
  await new Promise(done => {
    const check = () => (item.getFullyLoaded() ? setTimeout(done, 50) : setTimeout(check, 50));
    setTimeout(check, 50);
  });
  const level = item.source.maxLevel;
  return new URL(item.source.getTileUrl(level, 0, 0), document.baseURI).href.replace(/[^/]*$/, "");
}"""
_ALL_LOADED = """() => {
  const all = [...document.querySelectorAll("[data-dzbuild]")];
  return all.length > 0 && all.every(e => e.dataset.state === "loaded" || e.dataset.state === "failed");
}"""

_MARK_OLD = """() => {
  window.__dzbuildMark = true;
  document.querySelectorAll("[data-dzbuild]").forEach(e => { e.__dzbuildOld = true; });
}"""
_NEW_PAGE = """() => {
  const all = [...document.querySelectorAll("[data-dzbuild]")];
  return all.length > 0 && all.every(e => !e.__dzbuildOld);
}"""


@dataclass
class PageReport:
    url: str = ""
    viewers: int = 0
    states: list[str] = field(default_factory=list)  # data-state of each viewer: "loaded" when it worked
    labels: list[str] = field(default_factory=list)  # aria-label of each viewer
    sizes: list[tuple[float, float]] = field(default_factory=list)  # CSS width and height of each viewer
    deepest: list[str] = field(default_factory=list)  # per viewer, one tile URL fetched at its max level
    requested: list[str] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)  # (URL, status) of every response >= 400
    errors: list[str] = field(default_factory=list)  # page errors and console errors
    osd_loads: int = 0  # how many times openseadragon.min.js was fetched


class PageCheck(BrowserSession):
    """Serve ``root`` on 127.0.0.1 and open its pages in one headless Chromium."""

    def __init__(self, root: Path, javascript: bool = True, port: int = 0) -> None:
        super().__init__(root)
        self.port = port  # 0: any free port; a fixed one for sites that know their URL (Material's site_url)
        self.javascript = javascript
        self.page = None
        self.report = PageReport()

    def __enter__(self) -> "PageCheck":
        self._start()
        self.page = self._browser.new_page(java_script_enabled=self.javascript)
        self.page.on("response", self._record)
        self.page.on("pageerror", lambda e: self.report.errors.append(str(e)))
        self.page.on("console", self._console)
        return self

    @staticmethod
    def free_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def visit(self, path: str, zoom: bool = True, timeout_ms: int = 30000) -> PageReport:
        """Load ``path`` (below the root); with ``zoom``, wait for its viewers and zoom each to the deepest level."""
        self.report = PageReport()
        self.page.goto(f"{self.base_url}/{path.lstrip('/')}")
        return self._inspect(zoom, timeout_ms)

    def follow(self, selector: str, zoom: bool = True, timeout_ms: int = 30000) -> PageReport:
        """Click the link at ``selector`` and inspect the page it leads to; ``same_document`` tells a
        navigation that kept the document (Material's instant navigation) from a full load."""
        self.report = PageReport()
        self.page.evaluate(_MARK_OLD)
        self.page.click(selector)
        self.page.wait_for_function(_NEW_PAGE, timeout=timeout_ms)
        return self._inspect(zoom, timeout_ms)

    @property
    def same_document(self) -> bool:
        return bool(self.page.evaluate("window.__dzbuildMark === true"))

    def _inspect(self, zoom: bool, timeout_ms: int) -> PageReport:
        report, page = self.report, self.page
        report.url = page.url
        viewers = page.locator("[data-dzbuild]")
        report.viewers = viewers.count()
        if zoom and report.viewers:
            page.wait_for_function(_ALL_LOADED, timeout=timeout_ms)
            for i in range(report.viewers):
                level_url = page.evaluate(_ZOOM, i)  # the folder of this viewer's full-resolution tiles
                report.deepest.append(next((u for u in report.requested if u.startswith(level_url)), ""))
        report.states = [viewers.nth(i).get_attribute("data-state") for i in range(report.viewers)]
        report.labels = [viewers.nth(i).get_attribute("aria-label") for i in range(report.viewers)]
        boxes = [viewers.nth(i).bounding_box() for i in range(report.viewers)]
        report.sizes = [(box["width"], box["height"]) if box else (0.0, 0.0) for box in boxes]
        return report

    def _console(self, message) -> None:
        where = (message.location or {}).get("url", "")
        if message.type != "error" or where.endswith("/favicon.ico"):  # the browser's own guess, not the page's
            return
        self.report.errors.append(f"{message.text} ({where})" if where else message.text)

    def _record(self, response) -> None:
        self.report.requested.append(response.url)
        if response.url.endswith("openseadragon.min.js"):
            self.report.osd_loads += 1
        if response.status >= 400:
            self.report.failed.append((response.url, response.status))


@dataclass
class Embed:
    """One ``<figure class="dzbuild-embed">`` of a page, parsed: what a visitor and the viewer script get."""

    settings: dict  # data-dzbuild, decoded
    label: str  # the viewer's aria-label
    alt: str  # the thumbnail's alt text
    caption: str | None  # the figcaption's text
    tags: list[str] = field(default_factory=list)  # every element inside the figure, in order


class EmbedParser(HTMLParser):
    """Every embed of a page (``embeds``) and the attributes of every ``<script>`` (``scripts``)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.embeds: list[Embed] = []
        self.scripts: list[dict] = []
        self._depth = 0
        self._in_caption = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "figure" and attributes.get("class") == "dzbuild-embed" and not self._depth:
            self.embeds.append(Embed({}, "", "", None))
            self._depth = 1
            return
        if not self._depth:
            return
        embed = self.embeds[-1]
        embed.tags.append(tag)
        if "data-dzbuild" in attributes:
            embed.settings, embed.label = json.loads(attributes["data-dzbuild"]), attributes.get("aria-label", "")
        if tag == "img":
            embed.alt = attributes.get("alt", "")
        elif tag == "figcaption":
            embed.caption, self._in_caption = "", True
        self._depth += tag not in ("img", "br", "source")  # void elements have no end tag

    def handle_endtag(self, tag) -> None:
        if self._depth and tag not in ("img", "br", "source"):
            self._depth -= 1
            self._in_caption = self._in_caption and tag != "figcaption"

    def handle_data(self, data) -> None:
        if self._in_caption:
            self.embeds[-1].caption += data
