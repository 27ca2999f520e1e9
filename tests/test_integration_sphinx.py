"""The Sphinx extension end to end: the real ``sphinx-build`` on an rst page and a MyST page, the HTML in
headless Chromium (viewer started, every request 200, no console error, full resolution reached), LaTeX
and epub getting the thumbnail, and rebuilds that do no tile work. Browser parts skip locally without
Chromium/OpenSeadragon; CI fails instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sites import PINNED

from dzbuild.testing import make_image_folder
from dzbuild.testing.pages import PageCheck
from dzbuild.testing.viewer import ViewerUnavailable

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")
INDEX = """Home
====

.. deepzoom:: zoom/harbour
   :alt: Harbour at dusk
   :caption: The harbour

.. toctree::

   guide
"""
GUIDE = """# Guide

```{deepzoom} ../pictures/reef
:alt: The reef
:height: 420px
```
"""



@pytest.fixture
def project(tmp_path) -> Path:
    """conf.py and index.rst in src/, a MyST page, one image beside the page and one outside srcdir."""
    src = tmp_path / "src"
    make_image_folder(src / "zoom" / "harbour", 900, 600, seed=1)
    make_image_folder(tmp_path / "pictures" / "reef", 500, 700, seed=2)
    conf = 'project = "T"\ncopyright = "2026, T"\nversion = "1"\nextensions = ["dzbuild.sphinx", "myst_parser"]\n'
    (src / "conf.py").write_text(conf)
    (src / "index.rst").write_text(INDEX)
    (src / "guide.md").write_text(GUIDE)
    return tmp_path


def sphinx(root: Path, builder: str = "html", *extra: str) -> dict:
    """Run ``sphinx-build -W``; return dzbuild's report of the run."""
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, "-d", "out/doctrees", *extra]
    done = subprocess.run([*command, "src", f"out/{builder}"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "src" / ".dzbuild" / "sphinx" / "report.json").read_text())


def test_html_viewers_in_the_browser(project):
    first = sphinx(project)
    assert first["versions_built"] == 2 and first["tiles_computed"] > 0
    out = project / "out" / "html"
    assert (out / "_dzbuild" / "images" / "zoom" / "harbour" / "dzi" / "v0" / "dzi.xml").is_file()
    assert (out / "_dzbuild" / "images" / "_up" / "pictures" / "reef" / "dzi" / "v0" / "dzi.xml").is_file()
    try:
        with PageCheck(out) as check:
            for page, label, level in (("index.html", "Harbour at dusk", "zoom/harbour/dzi/v0/dzi_files/10/"),
                                       ("guide.html", "The reef", "pictures/reef/dzi/v0/dzi_files/10/")):
                report = check.visit(page)
                assert report.states == ["loaded"] and report.labels == [label], report
                assert report.failed == [] and report.errors == [], report
                assert level in report.deepest[0], report.deepest
            height = check.page.evaluate("document.querySelector('[data-dzbuild]').getBoundingClientRect().height")
            assert height == 420  # the :height: option
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert "<figcaption>The harbour</figcaption>" in (out / "index.html").read_text()


def test_rebuilds_with_nothing_new_do_no_tile_work(project):
    sphinx(project)
    assert sphinx(project)["tiles_computed"] == 0  # no document is read again
    again = sphinx(project, "html", "-E")  # every document read again: the pyramids come from the cache
    assert again["tiles_computed"] == 0 and again["versions_built"] == 0 and again["tiles_linked"] == 0


def test_new_version_reads_the_page_again(project):
    sphinx(project)
    harbour = project / "src" / "zoom" / "harbour"
    (harbour / "v1").mkdir()
    (harbour / "v1" / "0_0.jpg").write_bytes((harbour / "v0" / "1_1.jpg").read_bytes())
    report = sphinx(project)
    assert report["versions_built"] == 1 and 0 < report["tiles_computed"] <= 11  # one tile and its ancestors
    index = (project / "out" / "html" / "index.html").read_text()
    assert "_dzbuild/images/zoom/harbour/dzi/v1/dzi.xml" in index
    (project / "src" / "index.rst").write_text(INDEX.replace(":alt:", ":version: 0\n   :alt:"))
    sphinx(project)
    index = (project / "out" / "html" / "index.html").read_text()
    assert "zoom/harbour/dzi/v0/dzi.xml" in index and "dzi/v1/" not in index


@pytest.mark.parametrize("builder, name", [("latex", "t.tex"), ("epub", "index.xhtml")])
def test_other_builders_get_the_thumbnail(project, builder, name):
    sphinx(project, builder)
    out = project / "out" / builder
    text = (out / name).read_text()
    assert "data-dzbuild" not in text and "openseadragon" not in text.lower()
    assert not (out / "_dzbuild").exists()
    thumbs = sorted(out.rglob("0_0*.jpg"))
    cached = project / "src" / ".dzbuild" / "sphinx" / "tree" / "_dzbuild" / "images" / "zoom" / "harbour"
    expected = (cached / "dzi" / "v0" / "dzi_files" / "8" / "0_0.jpg").read_bytes()  # 225 x 150: one tile
    assert any(path.read_bytes() == expected for path in thumbs), thumbs
    assert ("includegraphics" in text) if builder == "latex" else ('alt="Harbour at dusk"' in text)


def test_not_an_image_folder_names_document_and_folder(project):
    (project / "src" / "index.rst").write_text(INDEX.replace("zoom/harbour", "zoom/nowhere"))
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "src", "out/html"],
        cwd=project, capture_output=True, text=True,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "index.rst:4" in done.stderr and "zoom/nowhere" in done.stderr and "pyramid.json" in done.stderr


def test_without_w_the_error_is_reported_and_the_build_exits_0(project):
    """Sphinx's own convention, which docs/integrations.md states: only ``-W`` fails the build."""
    (project / "src" / "index.rst").write_text(INDEX.replace("zoom/harbour", "zoom/nowhere"))
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", "src", "out/html"],
        cwd=project, capture_output=True, text=True,
    )
    assert done.returncode == 0 and "index.rst:4: ERROR" in done.stderr and "zoom/nowhere" in done.stderr
    assert "exit status 0" in (Path(__file__).resolve().parents[1] / "docs" / "integrations.md").read_text()


def test_parallel_readers_wait_for_each_other(project):
    """``sphinx-build -j 2``: readers share one cache; the work each did is added up."""
    src = project / "src"
    pages = [f"p{i}" for i in range(4)]
    for page in pages:
        (src / f"{page}.rst").write_text(f"{page}\n====\n\n.. deepzoom:: zoom/harbour\n")
    (src / "index.rst").write_text(INDEX + "".join(f"   {page}\n" for page in pages))
    first = sphinx(project, "html", "-j", "2")
    assert first["versions_built"] == 2 and first["tiles_computed"] == 13 + 11  # harbour and reef, once each
    again = sphinx(project, "html", "-j", "2", "-E")
    assert again["tiles_computed"] == 0 and again["versions_built"] == 0


HOSTILE_NAME = "dzbuild-alt-9d2f7c '&\"x <b>"  # the mark the shortcodes once replaced, quotes and markup
HOSTILE_ALT = 'x","script":"https://evil.example/x.js" <script>alert(1)</script> &amp;'
HOSTILE_CAPTION = "</figcaption><script src=https://evil.example/y.js></script> dzbuild-caption-9d2f7c"


def test_hostile_names_alt_and_captions_stay_data(project):
    from dzbuild.site.pages import url_path
    from dzbuild.testing.pages import EmbedParser

    make_image_folder(project / "src" / "zoom" / HOSTILE_NAME, 300, 200, seed=3)
    (project / "src" / "index.rst").write_text(
        f"Home\n====\n\n.. deepzoom:: zoom/{HOSTILE_NAME}\n   :alt: {HOSTILE_ALT}\n   :caption: {HOSTILE_CAPTION}\n"
    )
    (project / "src" / "guide.md").unlink()
    sphinx(project)
    page = EmbedParser((project / "out" / "html" / "index.html").read_text(encoding="utf-8"))
    (embed,) = page.embeds
    assert embed.settings == {
        "tileSources": f"{url_path('_dzbuild/images/zoom/' + HOSTILE_NAME)}/dzi/v0/dzi.xml",
        "prefixUrl": f"_dzbuild/openseadragon/{PINNED}/images/",
        "options": {},
    }
    assert embed.label == embed.alt == HOSTILE_ALT and embed.caption == HOSTILE_CAPTION  # rST text is literal
    assert embed.tags == ["div", "img", "figcaption"]
    ours = [s for s in page.scripts if "dzbuild" in s.get("src", "") or "evil" in str(s)]
    assert [s["data-openseadragon"] for s in ours] == [f"../_dzbuild/openseadragon/{PINNED}/openseadragon.min.js"]
    assert ours[0]["src"].startswith("_static/dzbuild-viewer.js")
