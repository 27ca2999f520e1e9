"""``latest/`` as a descriptor file (GitHub Pages; Cloudflare Pages beyond its 100 splat redirects):
OpenSeadragon, given ``IMAGE/latest/dzi.xml``, fetches the tiles its ``Url`` names, never under
``latest/`` (Debian's Chromium through Playwright, the pinned OpenSeadragon)."""

from __future__ import annotations

from urllib.parse import urljoin
from xml.etree import ElementTree

from sites import add_image, write_files
from viewerpages import chromium

from dzbuild.site.assets import pinned_openseadragon
from dzbuild.site.build import build_site
from dzbuild.site.latest import descriptor
from dzbuild.site.pages import ImageInfo
from dzbuild.testing import unavailable as missing
from dzbuild.testing.viewer import serve_folder

# A page on the same origin that opens an image by its alias, as a page elsewhere would.
OPENER = """<!doctype html><meta charset="utf-8"><div id="v" style="width:400px;height:300px"></div>
<script src="{osd}"></script><script>
const viewer = OpenSeadragon({{element: document.getElementById("v"), tileSources: "{alias}",
                              showNavigationControl: false}});
viewer.addHandler("tile-loaded", () => {{ document.body.dataset.loaded = "yes"; }});
viewer.addHandler("open-failed", (e) => {{ document.body.dataset.loaded = "failed: " + e.message; }});
</script>"""


def test_the_descriptor_names_the_tiles_of_the_latest_version_under_base_url():
    image = ImageInfo("maps/a b", 300, 200, 128, "png", 3, overlap=1)
    root = ElementTree.fromstring(descriptor("https://zoom.example.org/z/", image))
    assert root.get("Url") == "https://zoom.example.org/z/maps/a%20b/dzi/v2/dzi_files/"
    assert (root.get("TileSize"), root.get("Overlap"), root.get("Format")) == ("128", "1", "png")
    assert root[0].attrib == {"Width": "300", "Height": "200"}


def test_openseadragon_opens_the_alias_and_fetches_the_versioned_tiles(tmp_path):
    if pinned_openseadragon() is None:
        missing("OpenSeadragon is not installed (run `npm ci` in the repository)")
    site = tmp_path / "site"
    write_files(site, {"dzbuild.toml": 'host = "github-pages"\n'})
    add_image(site, "harbour", 600, 400, 128, seed=3)
    build_site(site, progress="quiet")
    output = site / "_site"
    osd = next(output.glob("_dzbuild/openseadragon/*/openseadragon.min.js")).relative_to(output).as_posix()
    (output / "opener.html").write_text(OPENER.format(osd=osd, alias="harbour/latest/dzi.xml"), encoding="utf-8")
    with serve_folder(output) as url, chromium() as browser:
        page = browser.new_page()
        answers = []
        page.on("response", lambda r: answers.append((r.status, r.url)))
        page.goto(urljoin(url, "opener.html"))
        page.wait_for_function("document.body.dataset.loaded", timeout=30_000)
        state = page.evaluate("document.body.dataset.loaded")
        page.close()
    tiles = [address for _, address in answers if "_files/" in address]
    assert state == "yes"
    assert tiles and all(address.startswith(urljoin(url, "harbour/dzi/v0/dzi_files/")) for address in tiles)
    assert [(status, address) for status, address in answers if status >= 400] == []
