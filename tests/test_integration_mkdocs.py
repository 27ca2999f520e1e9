"""The mkdocs plugin end to end: the real ``mkdocs build`` (default theme and Material), then the pages in
headless Chromium. Each viewer must start, every request answer 200, nothing log an error, and zooming in
must fetch a tile of the full-resolution level. Locally skipped without Chromium/OpenSeadragon; CI fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sites import PINNED

from dzbuild.testing import make_image_folder
from dzbuild.testing.pages import PageCheck
from dzbuild.testing.viewer import ViewerUnavailable

pytest.importorskip("mkdocs")
PAGES = {
    "index.md": "# Home\n\n![Harbour at dusk](zoom/harbour/)\n\nRead the [guide](guide.md).\n",
    "guide.md": (
        "# Guide\n\n![Reef, close up](./zoom/reef \"The reef\")\n\n"
        "Code stays code: `![x](zoom/harbour/)` and ![a picture](pic.png).\n\n"
        "```\n![in a fence](zoom/harbour/)\n```\n"
    ),
    "more/deep.md": "# Deeper\n\n- A list item\n\n    ![Harbour again](../zoom/harbour)\n",
}



def make_project(root: Path, theme: str, extra: str = "", images_in_docs: bool = True) -> Path:
    """A small mkdocs project: two pages, two image folders, the plugin listed after search."""
    docs = root / "docs"
    images = docs / "zoom" if images_in_docs else root / "pictures"
    make_image_folder(images / "harbour", 900, 600, seed=1)
    make_image_folder(images / "reef", 500, 700, seed=2)
    (docs / "more").mkdir(parents=True, exist_ok=True)
    (docs / "pic.png").write_bytes(bytes.fromhex("89504e470d0a1a0a"))  # a file mkdocs copies as it is
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    plugin = "  - dzbuild" if images_in_docs else "  - dzbuild:\n      source: pictures\n      prefix: zoom"
    nav = "nav:\n  - index.md\n  - guide.md\n  - more/deep.md\n"
    (root / "mkdocs.yml").write_text(f"site_name: Test\n{extra}theme:\n{theme}plugins:\n  - search\n{plugin}\n{nav}")
    return root


def mkdocs_build(root: Path) -> dict:
    """Run ``mkdocs build --strict``; return the plugin's report of this build."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / ".dzbuild" / "mkdocs" / "report.json").read_text())


def check_clean(report) -> None:
    assert report.viewers == 1 and report.states == ["loaded"], report
    assert report.failed == [] and report.errors == [], report
    assert report.deepest[0], "zooming in fetched no tile of the full-resolution level"
    width, height = report.sizes[0]
    # The text column's width (the window is 1280 x 720), or 85% of the window's height for a tall image.
    assert width >= 500 or height >= 0.84 * 720, report.sizes
    ratio = 900 / 600 if "harbour" in report.deepest[0] else 500 / 700
    assert abs(width / height - ratio) < 0.02, report.sizes  # sized by the image's aspect ratio


def open_pages(check: PageCheck, alt_home: str = "Harbour at dusk") -> None:
    home = check.visit("")
    check_clean(home)
    assert home.labels == [alt_home] and home.osd_loads == 1
    assert "/zoom/harbour/dzi/v0/dzi_files/10/" in home.deepest[0]  # 900 px wide: level 10 is full size


def test_default_theme(tmp_path):
    root = make_project(tmp_path, "  name: mkdocs\n  highlightjs: false\n")  # no CDN: the network is closed
    make_image_folder(root / "docs" / "zoom" / "night & day", 600, 400, seed=3)  # a name URLs must encode
    (root / "docs" / "more" / "night.md").write_text("# Night\n\n![Night](../zoom/night%20&%20day/)\n")
    first = mkdocs_build(root)
    assert first["tiles_computed"] > 0 and first["versions_built"] == 3
    site = root / "site"
    assert not (site / "zoom" / "harbour" / "pyramid.json").exists()  # the source tiles stay out of the site
    assert not (site / "zoom" / "harbour" / "v0").exists()
    assert (site / "zoom" / "harbour" / "dzi" / "v0" / "dzi.xml").is_file()
    guide = (site / "guide" / "index.html").read_text()
    assert "<code>![x](zoom/harbour/)</code>" in guide and "![in a fence](zoom/harbour/)" in guide
    assert '<img alt="a picture" src="../pic.png"' in guide and 'aria-label="Reef, close up"' in guide
    assert "<figcaption>The reef</figcaption>" in guide
    deep = (site / "more" / "deep" / "index.html").read_text()
    assert '"tileSources": "../../zoom/harbour/dzi/v0/dzi.xml"' in deep and 'src="../../zoom/harbour/dzi/v0/' in deep
    try:
        with PageCheck(site) as check:
            open_pages(check)
            reef = check.visit("guide/")
            check_clean(reef)
            assert "/zoom/reef/dzi/v0/dzi_files/10/" in reef.deepest[0]  # 700 px tall: level 10
            night = check.visit("more/night/")
            assert night.states == ["loaded"] and night.failed == [] and night.errors == [], night
            assert "/zoom/night%20&%20day/dzi/v0/dzi_files/10/" in night.deepest[0]
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    again = mkdocs_build(root)  # mkdocs empties site_dir: the pyramids come back as links, no tile work
    assert again["tiles_computed"] == 0 and again["versions_built"] == 0
    assert (site / "zoom" / "reef" / "dzi" / "v0" / "dzi.xml").is_file()


def test_material_instant_navigation(tmp_path):
    """The second page is reached by Material's instant navigation; its viewer starts without a reload."""
    pytest.importorskip("material")
    port = PageCheck.free_port()
    theme = "  name: material\n  font: false\n  features: [navigation.instant]\n"
    root = make_project(tmp_path, theme, extra=f"site_url: http://127.0.0.1:{port}/\n", images_in_docs=False)
    mkdocs_build(root)
    try:
        with PageCheck(root / "site", port=port) as check:
            open_pages(check)
            reef = check.follow('.md-content a[href$="guide/"]')
            assert check.same_document, "Material did not navigate instantly: the test would prove nothing"
            check_clean(reef)
            assert reef.osd_loads == 0  # OpenSeadragon stays loaded across instant navigations
            assert "/zoom/reef/dzi/v0/dzi_files/10/" in reef.deepest[0]
            viewers = "document.querySelectorAll('[data-dzbuild] > .openseadragon-container').length"
            assert check.page.evaluate(viewers) == 1  # the old page's viewer was destroyed (its overview is not one)
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))


def test_javascript_off_shows_the_thumbnail(tmp_path):
    root = make_project(tmp_path, "  name: mkdocs\n  highlightjs: false\n")
    mkdocs_build(root)
    try:
        with PageCheck(root / "site", javascript=False) as check:
            check.visit("", zoom=False)
            size = check.page.evaluate("(() => { const i = document.querySelector('[data-dzbuild] img');"
                                       " return [i.naturalWidth, i.naturalHeight, i.alt]; })()")
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert size == [225, 150, "Harbour at dusk"]  # level 8 of 900 x 600: the largest one-tile level


def test_new_version_is_built_incrementally(tmp_path):
    root = make_project(tmp_path, "  name: mkdocs\n  highlightjs: false\n")
    mkdocs_build(root)
    harbour = root / "docs" / "zoom" / "harbour"
    (harbour / "v1").mkdir()
    (harbour / "v1" / "0_0.jpg").write_bytes((harbour / "v0" / "1_1.jpg").read_bytes())  # a retouched corner
    (root / "docs" / "index.md").write_text("# Both\n\n![First](zoom/harbour/v0/)\n\n![Latest](zoom/harbour/)\n")
    report = mkdocs_build(root)
    assert report["versions_built"] == 1 and 0 < report["tiles_computed"] <= 11  # one tile and its ancestors
    assert not (root / "site" / "zoom" / "harbour" / "v1").exists()
    try:
        with PageCheck(root / "site") as check:
            both = check.visit("")
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert both.states == ["loaded", "loaded"] and both.failed == [] and both.errors == [], both
    assert both.osd_loads == 1  # one OpenSeadragon for two viewers
    assert "/zoom/harbour/dzi/v0/dzi_files/10/" in both.deepest[0] and "/dzi/v1/dzi_files/10/" in both.deepest[1]


def test_unpublished_version_is_an_error(tmp_path):
    root = make_project(tmp_path, "  name: mkdocs\n")
    (root / "docs" / "index.md").write_text("![Later](zoom/harbour/v3/)\n")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=root, capture_output=True, text=True,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "index.md: zoom/harbour has no published version v3" in done.stderr, done.stderr


def test_broken_image_folder_is_one_line(tmp_path):
    root = make_project(tmp_path, "  name: mkdocs\n")
    (root / "docs" / "zoom" / "harbour" / "pyramid.json").write_text("{not json", encoding="utf-8")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "harbour/pyramid.json" in done.stderr, done.stderr


def test_serve_builds_a_new_version_when_it_is_saved(tmp_path):
    """``mkdocs serve`` watches a source outside docs_dir; a v1 moved in is built and served."""
    root = make_project(tmp_path, "  name: mkdocs\n", images_in_docs=False)
    port = PageCheck.free_port()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert "zoom/harbour/dzi/v0/dzi.xml" in wait_for_page(port, "dzi/v0/dzi.xml", server)
        harbour = root / "pictures" / "harbour"
        staged = harbour / ".v1-partial"  # a version is prepared aside and moved in whole
        staged.mkdir()
        (staged / "0_0.jpg").write_bytes((harbour / "v0" / "1_1.jpg").read_bytes())
        staged.rename(harbour / "v1")
        assert "zoom/harbour/dzi/v1/dzi.xml" in wait_for_page(port, "dzi/v1/dzi.xml", server)
        report = json.loads((root / ".dzbuild" / "mkdocs" / "report.json").read_text())
        assert report["versions_built"] == 1 and 0 < report["tiles_computed"] <= 11
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_page(port: int, needle: str, server, limit: float = 120.0) -> str:
    """The served home page once it contains ``needle`` (a bound for a hung server, not a timing test)."""
    import time
    import urllib.request

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mkdocs serve exited: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                page = response.read().decode("utf-8")
            if needle in page:
                return page
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the served page never showed {needle}")


def test_rebuild_keeps_the_linked_pyramids_and_drops_removed_images(tmp_path):
    """mkdocs empties site_dir; the plugin sets its folders aside and back, so no tile is linked again."""
    root = make_project(tmp_path, "  name: mkdocs\n")
    mkdocs_build(root)
    marker = root / "site" / "zoom" / "harbour" / "dzi" / "kept"  # survives only if the folder was set aside
    marker.write_text("")
    (root / "site" / "stray.txt").write_text("mkdocs removes what it did not write")
    mkdocs_build(root)
    assert marker.exists() and not (root / "site" / "stray.txt").exists()
    assert not (root / ".dzbuild" / "mkdocs" / "kept").exists()
    import shutil

    shutil.rmtree(root / "docs" / "zoom" / "reef")
    (root / "docs" / "guide.md").write_text("# Guide\n")
    mkdocs_build(root)
    assert not (root / "site" / "zoom" / "reef").exists() and marker.exists()


HOSTILE_NAME = "dzbuild-alt-9d2f7c '&\"x"  # the mark the shortcodes once replaced, and every kind of quote
HOSTILE_ALT = 'x","script":"https://evil.example/x.js" <script>alert(1)</script> Tom &amp; Jerry'
HOSTILE_TITLE = "</figcaption><script src=https://evil.example/y.js></script> &lt;b&gt;"


def test_hostile_names_alt_and_titles_stay_data_and_entities_are_read_once(tmp_path):
    from urllib.parse import quote

    from dzbuild.site.pages import url_path
    from dzbuild.testing.pages import EmbedParser

    root = make_project(tmp_path, "  name: mkdocs\n  highlightjs: false\n")
    make_image_folder(root / "docs" / "zoom" / HOSTILE_NAME, 300, 200, seed=3)
    target = quote(f"zoom/{HOSTILE_NAME}/")
    (root / "docs" / "hostile.md").write_text(f'# Hostile\n\n![{HOSTILE_ALT}]({target} "{HOSTILE_TITLE}")\n')
    mkdocs_build(root)
    page = EmbedParser((root / "site" / "hostile" / "index.html").read_text(encoding="utf-8"))
    (embed,) = page.embeds
    alt = 'x","script":"https://evil.example/x.js" <script>alert(1)</script> Tom & Jerry'  # &amp; is one "&"
    assert embed.label == embed.alt == alt
    assert embed.settings == {
        "tileSources": f"../{url_path('zoom/' + HOSTILE_NAME)}/dzi/v0/dzi.xml",  # as dzbuild spells URLs
        "prefixUrl": f"../_dzbuild/openseadragon/{PINNED}/images/",
        "options": {},
    }
    assert embed.caption == "</figcaption><script src=https://evil.example/y.js></script> <b>"
    assert embed.tags == ["div", "img", "figcaption"]
    ours = [s for s in page.scripts if "dzbuild" in s.get("src", "") or "evil" in str(s)]
    assert ours == [{"src": "../_dzbuild/assets/dzbuild-viewer.js",
                     "data-openseadragon": f"../openseadragon/{PINNED}/openseadragon.min.js"}]
