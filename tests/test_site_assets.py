"""Which OpenSeadragon a site ships: the configured copy, else the one dzbuild pins in package.json.

A ``node_modules`` near the site or the current folder is never used: a site inside any
JavaScript project would otherwise ship whatever version that project happens to hold.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

from sites import PINNED, make_site, write_files

from dzbuild.site.build import build_site

REPO = Path(__file__).resolve().parents[1]
PINNED_SCRIPT = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon" / "openseadragon.min.js"


class Scripts(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "script" and dict(attrs).get("src"):
            self.found.append(dict(attrs))


def other_openseadragon(folder: Path) -> None:
    """An npm install of another OpenSeadragon, as a JavaScript project around a site may hold."""
    package = folder / "node_modules" / "openseadragon"
    write_files(package, {"build/openseadragon/openseadragon.min.js": "/* 9.9.9 */\n", "LICENSE.txt": "other"})
    (package / "package.json").write_text(json.dumps({"name": "openseadragon", "version": "9.9.9"}))


def test_a_node_modules_near_the_site_or_the_current_folder_is_never_shipped(tmp_path, monkeypatch):
    site = make_site(tmp_path, config="[viewer]\n", images=("a",))  # no openseadragon_dir: the pinned copy
    other_openseadragon(site)
    other_openseadragon(tmp_path)  # the site's parent, and the current folder below
    monkeypatch.chdir(tmp_path)
    build_site(site)
    shipped = site / "_site" / "_dzbuild" / "openseadragon"
    assert [p.name for p in shipped.iterdir()] == [PINNED]
    assert (shipped / PINNED / "openseadragon.min.js").read_bytes() == PINNED_SCRIPT.read_bytes()
    page = Scripts((site / "_site" / "a" / "index.html").read_text())
    assert any(s["src"].endswith(f"_dzbuild/openseadragon/{PINNED}/openseadragon.min.js") for s in page.found)


def test_the_cdn_mode_loads_the_pinned_version_checked_against_its_bytes(tmp_path):
    site = make_site(tmp_path, config='[viewer]\nopenseadragon = "cdn"\n', images=("a",))
    build_site(site)
    page = Scripts((site / "_site" / "a" / "index.html").read_text())
    script = next(s for s in page.found if "openseadragon.min.js" in s["src"])
    url = f"https://cdn.jsdelivr.net/npm/openseadragon@{PINNED}/build/openseadragon/openseadragon.min.js"
    digest = base64.b64encode(hashlib.sha384(PINNED_SCRIPT.read_bytes()).digest()).decode()
    assert (script["src"], script["integrity"]) == (url, f"sha384-{digest}")


def test_the_pinned_version_is_written_in_package_json_only():
    places = [REPO / "setup.py", *(REPO / folder for folder in ("dzbuild", "tests", "bench"))]
    files = [p for place in places for p in ([place] if place.is_file() else place.rglob("*")) if p.is_file()]
    texts = {p: p.read_bytes() for p in files if p.suffix in {".py", ".html", ".js", ".toml", ".json", ".md"}}
    assert len(texts) > 100
    assert [p.relative_to(REPO) for p, data in texts.items() if PINNED.encode() in data] == []
