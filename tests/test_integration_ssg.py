"""Hugo, Jekyll and Eleventy end to end: ``dzbuild init``, a one-line embed, both builds, a real browser.

Hugo and Jekyll come from Debian's packages (``.ci/run`` installs them), Eleventy from npm
(``package.json``, ``npm ci``). Outside CI a missing generator or browser skips its test with the
reason; under ``CI=true`` it fails, so CI cannot pass without running them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dzbuild.testing import make_image_folder
from dzbuild.testing.embedcheck import EmbedCheck
from dzbuild.testing.viewer import ViewerUnavailable

REPO = Path(__file__).resolve().parents[1]
ELEVENTY = REPO / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
WIDTH, HEIGHT, TILE = 1000, 700, 256  # levels 0..10; level 8 is the one-tile thumbnail
FULL_LEVEL = 10
LAYOUT = "<!doctype html><html><head><title>t</title><link rel='icon' href='data:,'></head><body>{}</body></html>\n"


def missing(reason: str):
    """Fail under CI, where every generator must run; skip with the reason elsewhere."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must provide it (see .ci/run)")
    pytest.skip(reason)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


def dzbuild(*args: str, cwd: Path) -> str:
    return run([sys.executable, "-m", "dzbuild", *args], cwd)


def hugo_project(root: Path) -> tuple[list[str], str, str]:
    write(root, {
        "hugo.toml": 'baseURL = "http://127.0.0.1/"\ntitle = "t"\ndisableKinds = ["taxonomy", "term", "RSS"]\n',
        "layouts/_default/single.html": LAYOUT.format("{{ .Content }}"),
        "content/harbour.md": '---\ntitle: Harbour\n---\nBefore.\n\n{{< deepzoom "harbour" >}}\n\nAfter.\n',
    })
    return ["hugo", "--quiet"], "zoom", "public/harbour/index.html"


def jekyll_project(root: Path) -> tuple[list[str], str, str]:
    write(root, {
        "_config.yml": "title: t\nkeep_files: [zoom, _headers, _redirects]\nexclude: [dzbuild.toml]\n",
        "_layouts/default.html": LAYOUT.format("{{ content }}"),
        "harbour.md": '---\nlayout: default\n---\nBefore.\n\n{% include deepzoom.html image="harbour" %}\n\nAfter.\n',
    })
    return ["jekyll", "build", "--quiet"], "_zoom", "_site/harbour.html"


def eleventy_project(root: Path) -> tuple[list[str], str, str]:
    write(root, {
        "eleventy.config.js": 'module.exports = (config) => { config.addPlugin(require("./dzbuild.eleventy.cjs")); };\n',
        "_includes/base.njk": LAYOUT.format("{{ content | safe }}"),
        "harbour.njk": '---\nlayout: base.njk\n---\nBefore.\n{% deepzoom "harbour" %}\nAfter.\n',
        "liquid.liquid": '---\nlayout: base.njk\n---\n{% deepzoom "harbour" "In Liquid" %}\n',
    })
    return ["node", str(ELEVENTY), "--quiet"], "zoom", "_site/harbour/index.html"


PROJECTS = {"hugo": hugo_project, "jekyll": jekyll_project, "eleventy": eleventy_project}
SERVED = {"hugo": "public", "jekyll": "_site", "eleventy": "_site"}


def require(name: str) -> None:
    if name == "eleventy":
        if shutil.which("node") is None or not ELEVENTY.is_file():
            missing("Eleventy is not installed: run `npm ci` (package.json pins @11ty/eleventy)")
    elif shutil.which(name) is None:
        missing(f"{name} is not installed (apt-get install {name})")
    if not Path("/usr/bin/chromium").exists() and shutil.which("chromium") is None:
        missing("no Chromium (apt-get install chromium)")


class Figures(HTMLParser):
    """The attributes of every ``<figure data-dzbuild>`` and of the ``<img>`` in it, from the page as written."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "figure" and "data-dzbuild" in attributes:
            self.found.append(attributes)
            self._inside = True
        elif tag == "img" and self._inside:
            self.found[-1]["img"] = {k: v for k, v in attributes.items() if k != "/"}
        elif tag == "script" and "src" in attributes:
            self.scripts.append(attributes["src"])

    def handle_endtag(self, tag) -> None:
        if tag == "figure":
            self._inside = False


def expected_figure(data: dict) -> dict:
    """The shared embed markup, filled in from the data file alone."""
    image = data["images"]["harbour"]
    thumb = image["thumbnail"]
    return {
        "class": "dzbuild-embed",
        "data-dzbuild": image["descriptor"],
        "data-dzbuild-width": str(WIDTH),
        "data-dzbuild-height": str(HEIGHT),
        "style": f"aspect-ratio: {WIDTH} / {HEIGHT}",
        "img": {"src": thumb["url"], "alt": "harbour", "width": str(thumb["width"]),
                "height": str(thumb["height"]), "loading": "lazy"},
    }


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_a_one_line_embed_becomes_a_zoomable_viewer(name, tmp_path):
    require(name)
    project = tmp_path / name
    project.mkdir()
    generate, source, page = PROJECTS[name](project)
    added = dzbuild("init", name, cwd=project)
    assert "added dzbuild.toml" in added
    make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    first = json.loads(dzbuild("build", "--json", cwd=project))
    assert (first["versions_built"], first["tiles_computed"]) == (1, 13)
    run(generate, project)

    data = json.loads((project / ("data" if name == "hugo" else "_data") / "dzbuild.json").read_text())
    parsed = Figures()
    parsed.feed((project / page).read_text(encoding="utf-8"))
    assert parsed.found == [expected_figure(data)]  # the same markup from every generator
    assert parsed.scripts == [data["assets"]["openseadragon"], data["assets"]["embed"]]

    try:
        with EmbedCheck(project / SERVED[name]) as browser:
            report = browser.open(page.split("/", 1)[1].removesuffix("index.html"))
    except ViewerUnavailable as exc:
        missing(str(exc))
    assert report.states == ["loaded"]
    assert report.failed == [] and report.errors == []
    assert any(url.endswith("/zoom/harbour/dzi/v0/dzi.xml") for url in report.requested)
    assert report.max_level == FULL_LEVEL and report.deepest == FULL_LEVEL  # zooming in reaches full resolution

    again = json.loads(dzbuild("build", "--json", cwd=project))
    assert (again["versions_built"], again["tiles_computed"], again["tiles_linked"], again["files_written"]) == (
        0, 0, 0, 0
    )


def test_eleventy_liquid_and_nunjucks_render_the_same_figure(tmp_path):
    require("eleventy")
    project = tmp_path / "eleventy"
    project.mkdir()
    generate, source, _ = eleventy_project(project)
    dzbuild("init", "eleventy", cwd=project)
    make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    dzbuild("build", cwd=project)
    run(generate, project)
    figures = []
    for page in ("_site/harbour/index.html", "_site/liquid/index.html"):
        parsed = Figures()
        parsed.feed((project / page).read_text(encoding="utf-8"))
        figures.append(parsed.found)
    assert figures[0] == figures[1] and len(figures[0]) == 1
    assert "<figcaption>In Liquid</figcaption>" in (project / "_site/liquid/index.html").read_text()


VERSIONED = {  # an older version with a caption, then an unknown name
    "hugo": ("content/old.md", '---\ntitle: Old\n---\n{{< deepzoom image="harbour" version=0 caption="At <dusk>" >}}\n',
             "public/old/index.html", '---\ntitle: Bad\n---\n{{< deepzoom "nope" >}}\n'),
    "jekyll": ("old.md", '---\nlayout: default\n---\n{% include deepzoom.html image="harbour" version=0 caption="At <dusk>" %}\n',
               "_site/old.html", '---\nlayout: default\n---\n{% include deepzoom.html image="nope" %}\n'),
    "eleventy": ("old.njk", '---\nlayout: base.njk\n---\n{% deepzoom "harbour", version=0, caption="At <dusk>" %}\n',
                 "_site/old/index.html", '---\nlayout: base.njk\n---\n{% deepzoom "nope" %}\n'),
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_an_older_version_a_caption_and_an_unknown_name(name, tmp_path):
    require(name)
    project = tmp_path / name
    project.mkdir()
    generate, source, _ = PROJECTS[name](project)
    dzbuild("init", name, cwd=project)
    image = make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    (image / "v1").mkdir()
    shutil.copyfile(image / "v0" / "1_1.jpg", image / "v1" / "0_0.jpg")
    dzbuild("build", cwd=project)
    page_file, text, output, bad = VERSIONED[name]
    write(project, {page_file: text})
    run(generate, project)
    html = (project / output).read_text(encoding="utf-8")
    parsed = Figures()
    parsed.feed(html)
    assert [f["data-dzbuild"] for f in parsed.found] == ["/zoom/harbour/dzi/v0/dzi.xml"]
    assert "<figcaption>At &lt;dusk&gt;</figcaption>" in html  # escaped, not markup
    write(project, {page_file: bad})
    loud = [arg for arg in generate if arg != "--quiet"]  # Hugo's --quiet hides the error's text too
    failed = subprocess.run(loud, cwd=project, capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0 and "nope" in failed.stdout + failed.stderr
