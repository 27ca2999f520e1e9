"""Hugo, Jekyll and Eleventy end to end: ``dzbuild init``, a one-line embed, both builds, a real browser.

Hugo and Jekyll come from Debian's packages (``.ci/run`` installs them), Eleventy from npm
(``package.json``, ``npm ci``). Outside CI a missing generator or browser skips its test with the
reason; under ``CI=true`` it fails, so CI cannot pass without running them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sites import PINNED

from dzbuild.testing import make_image_folder
from dzbuild.testing.pages import EmbedParser, PageCheck
from dzbuild.testing.viewer import ViewerUnavailable, find_chromium

REPO = Path(__file__).resolve().parents[1]
ELEVENTY = REPO / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
WIDTH, HEIGHT, TILE = 1000, 700, 256  # levels 0..10; level 8 is the one-tile thumbnail
FULL_LEVEL = 10
DZBUILD_BUILD = [sys.executable, "-m", "dzbuild", "build", "--progress", "quiet"]  # what the plugins run
LAYOUT = "<!doctype html><html><head><title>t</title><link rel='icon' href='data:,'></head><body>{}</body></html>\n"



def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
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
    """In Jekyll's default theme, minima (Debian's jekyll-theme-minima)."""
    write(root, {
        "_config.yml": "title: t\ntheme: minima\nkeep_files: [zoom, _headers, _redirects]\n"
                       "exclude: [dzbuild.toml, .dzbuild]\n"
                       f"dzbuild_command: {json.dumps(DZBUILD_BUILD)}\n",
        "harbour.md": '---\nlayout: page\ntitle: Harbour\n---\nBefore.\n\n'
                      '{% include deepzoom.html image="harbour" %}\n\nAfter.\n',
    })
    return ["jekyll", "build", "--quiet"], "_zoom", "_site/harbour.html"


def eleventy_project(root: Path) -> tuple[list[str], str, str]:
    write(root, {
        "eleventy.config.js": 'module.exports = (config) => {\n'
                              '  config.addPlugin(require("./dzbuild.eleventy.cjs"));\n};\n',
        "_includes/base.njk": LAYOUT.format("{{ content | safe }}"),
        "harbour.njk": '---\nlayout: base.njk\n---\nBefore.\n{% deepzoom "harbour" %}\nAfter.\n',
        "liquid.liquid": '---\nlayout: base.njk\n---\n{% deepzoom "harbour" "In Liquid" %}\n',
    })
    return ["node", str(ELEVENTY), "--quiet"], "zoom", "_site/harbour/index.html"


def built_eleventy_project(tmp_path: Path) -> tuple[Path, list[str]]:
    """An Eleventy project after ``dzbuild init eleventy`` and ``dzbuild build``; its generate command."""
    require("eleventy")
    project = tmp_path / "eleventy"
    project.mkdir()
    generate, source, _ = eleventy_project(project)
    dzbuild("init", "eleventy", cwd=project)
    make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    dzbuild("build", cwd=project)
    return project, generate


PROJECTS = {"hugo": hugo_project, "jekyll": jekyll_project, "eleventy": eleventy_project}
SERVED = {"hugo": "public", "jekyll": "_site", "eleventy": "_site"}


def require(name: str) -> None:
    if name == "eleventy":
        if shutil.which("node") is None or not ELEVENTY.is_file():
            pytest.skip("Eleventy is not installed: run `npm ci` (package.json pins @11ty/eleventy)")
    elif shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    if not Path(find_chromium() or "/usr/bin/chromium").exists():
        pytest.skip(f"no Chromium at {find_chromium()} (apt-get install chromium, or set DZBUILD_CHROMIUM)")


class Figures(HTMLParser):
    """Every ``<figure class="dzbuild-embed">`` of a page as ``[(tag, attributes), ...]`` plus its caption text.

    ``data-dzbuild`` is decoded from JSON, so two spellings of the same configuration compare equal.
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: list[list] = []
        self.scripts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs) -> None:
        attributes = {k: v for k, v in attrs if k != "/"}
        if tag == "figure" and attributes.get("class") == "dzbuild-embed":
            self.found.append([])
            self._depth = 1
        elif self._depth and tag not in ("img",):
            self._depth += 1
        if "data-dzbuild" in attributes:
            attributes["data-dzbuild"] = json.loads(attributes["data-dzbuild"])
        if self._depth:
            self.found[-1].append((tag, attributes))
        if tag == "script" and "src" in attributes:
            self.scripts.append(attributes["src"])

    def handle_endtag(self, tag) -> None:
        if self._depth and tag != "img":
            self._depth -= 1

    def handle_data(self, data) -> None:
        if self._depth and data.strip():
            self.found[-1].append(("text", data.strip()))


def parse(html: str) -> Figures:
    parsed = Figures()
    parsed.feed(html)
    return parsed


def expected_figure(data: dict, caption: str | None = None, version: int | None = None) -> list:
    """What ``dzbuild.embed.render_embed`` (the shared partial) writes for the image, parsed the same way."""
    from dzbuild.embed import render_embed
    from dzbuild.site.assets import ViewerAssets
    from dzbuild.site.pages import ImageInfo

    entry = data["images"]["harbour"]
    image = ImageInfo("harbour", WIDTH, HEIGHT, TILE, "jpg", len(entry["versions"]))
    base = data["base_url"]
    osd = data["assets"]["openseadragon"].removeprefix(base)
    viewer = ViewerAssets(osd, osd.rsplit("/", 1)[0] + "/images/", None)
    html = render_embed(image, entry["url"], "harbour", viewer=viewer, root=base, caption=caption, version=version)
    return parse(html).found[0]


def test_a_new_hugo_site_shows_its_page_and_viewer_after_init(tmp_path):
    """``hugo new site`` has no theme and no layout; init adds a minimal layout, so the page renders."""
    require("hugo")
    run(["hugo", "new", "site", "fresh", "--quiet"], tmp_path)
    project = tmp_path / "fresh"
    assert "added layouts/_default/single.html" in dzbuild("init", "hugo", cwd=project)
    make_image_folder(project / "zoom" / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    write(project, {"content/harbour.md": '---\ntitle: Harbour\n---\nBefore.\n\n{{< deepzoom "harbour" >}}\n'})
    dzbuild("build", "--progress", "quiet", cwd=project)
    run(["hugo", "--quiet"], project)

    data = json.loads((project / "data" / "dzbuild.json").read_text())
    parsed = parse((project / "public" / "harbour" / "index.html").read_text(encoding="utf-8"))
    assert parsed.found == [expected_figure(data)] and parsed.scripts == [data["assets"]["embed"]]
    home = (project / "public" / "index.html").read_text(encoding="utf-8")
    assert 'href="/harbour/"' in home  # the minimal list layout links the page
    try:
        with PageCheck(project / "public") as browser:
            report = browser.visit("harbour/")
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert report.states == ["loaded"] and report.failed == [] and report.errors == []


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
    parsed = parse((project / page).read_text(encoding="utf-8"))
    assert parsed.found == [expected_figure(data)]  # the shared partial's markup, from the data file alone
    assert parsed.scripts == [data["assets"]["embed"]]  # which loads OpenSeadragon once

    try:
        with PageCheck(project / SERVED[name]) as browser:
            report = browser.visit(page.split("/", 1)[1].removesuffix("index.html"))
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert report.states == ["loaded"] and report.labels == ["harbour"]
    assert report.failed == [] and report.errors == [] and report.osd_loads == 1
    assert any(url.endswith("/zoom/harbour/dzi/v0/dzi.xml") for url in report.requested)
    assert report.deepest[0].rsplit("/", 2)[-2] == str(FULL_LEVEL)  # zooming in reaches full resolution

    again = json.loads(dzbuild("build", "--json", cwd=project))
    assert (again["versions_built"], again["tiles_computed"], again["tiles_linked"], again["files_written"]) == (
        0, 0, 0, 0
    )


def test_eleventy_liquid_and_nunjucks_render_the_same_figure(tmp_path):
    project, generate = built_eleventy_project(tmp_path)
    run(generate, project)
    data = json.loads((project / "_data" / "dzbuild.json").read_text())
    nunjucks = parse((project / "_site/harbour/index.html").read_text(encoding="utf-8")).found
    liquid = parse((project / "_site/liquid/index.html").read_text(encoding="utf-8")).found
    assert nunjucks == [expected_figure(data)] and liquid == [expected_figure(data, caption="In Liquid")]


VERSIONED = {  # an older version with a caption, then an unknown name
    "hugo": ("content/old.md", '---\ntitle: Old\n---\n{{< deepzoom image="harbour" version=0 caption="At <dusk>" >}}\n',
             "public/old/index.html", '---\ntitle: Bad\n---\n{{< deepzoom "nope" >}}\n'),
    "jekyll": ("old.md",
               '---\nlayout: page\n---\n{% include deepzoom.html image="harbour" version=0 caption="At <dusk>" %}\n',
               "_site/old.html", '---\nlayout: page\n---\n{% include deepzoom.html image="nope" %}\n'),
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
    data = json.loads((project / ("data" if name == "hugo" else "_data") / "dzbuild.json").read_text())
    assert parse(html).found == [expected_figure(data, caption="At <dusk>", version=0)]
    assert "<figcaption>At &lt;dusk&gt;</figcaption>" in html  # escaped, not markup
    write(project, {page_file: bad})
    loud = [arg for arg in generate if arg != "--quiet"]  # Hugo's --quiet hides the error's text too
    failed = subprocess.run(loud, cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert failed.returncode != 0 and "nope" in failed.stdout + failed.stderr


def test_eleventy_runs_dzbuild_itself_with_build_true(tmp_path):
    require("eleventy")
    project = tmp_path / "eleventy"
    project.mkdir()
    generate, source, page = eleventy_project(project)
    command = json.dumps(DZBUILD_BUILD)
    write(project, {"eleventy.config.js": 'module.exports = (config) => {\n'
                    f'  config.addPlugin(require("./dzbuild.eleventy.cjs"), {{ build: {command} }});\n}};\n'})
    dzbuild("init", "eleventy", cwd=project)
    make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    run(generate, project)  # one command: the plugin builds the pyramids and the data file first
    data = json.loads((project / "_data" / "dzbuild.json").read_text())
    assert parse((project / page).read_text(encoding="utf-8")).found == [expected_figure(data)]
    assert (project / "_site/zoom/harbour/dzi/v0/dzi.xml").is_file()
    write(project, {"harbour.njk": '---\nlayout: base.njk\n---\n{% deepzoom "harbour" %}\n'})
    (project / source / "harbour" / "pyramid.json").write_text("{broken")
    failed = subprocess.run(generate, cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert failed.returncode != 0 and "pyramid.json" in failed.stdout + failed.stderr  # dzbuild's error shows


def test_jekyll_runs_dzbuild_itself_through_its_plugin(tmp_path):
    require("jekyll")
    project = tmp_path / "jekyll"
    project.mkdir()
    generate, source, page = jekyll_project(project)
    dzbuild("init", "jekyll", cwd=project)
    make_image_folder(project / source / "harbour", WIDTH, HEIGHT, TILE, seed=5)
    run(generate, project)  # one command: _plugins/dzbuild.rb builds the pyramids and the data file first
    data = json.loads((project / "_data" / "dzbuild.json").read_text())
    assert parse((project / page).read_text(encoding="utf-8")).found == [expected_figure(data)]
    assert (project / "_site/zoom/harbour/dzi/v0/dzi.xml").is_file()
    (project / source / "harbour" / "pyramid.json").write_text("{broken")
    failed = subprocess.run(generate, cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert failed.returncode != 0 and "pyramid.json" in failed.stdout + failed.stderr  # dzbuild's error shows


# -- Hostile names and text: each stays data in its slot -------------------------------------------------------

# A folder name and a page's text that try to leave their slots: the marks the shortcodes once replaced,
# quotes of every kind, JSON that would set the script to load, and markup that would end the caption.
HOSTILE_NAME = "dzbuild-alt-9d2f7c dzbuild-caption-9d2f7c '&<b>"
HOSTILE_ALT = 'dzbuild-caption-9d2f7c x","script":"https://evil.example/x.js","y":"\' <script>alert(1)</script>'
HOSTILE_CAPTION = "dzbuild-alt-9d2f7c </figcaption><script src=https://evil.example/y.js></script> &amp; done"
HOSTILE_PAGE = {  # front matter carries the values, so no template syntax has to quote them
    "hugo": ("content/hostile.md", "public/hostile/index.html",
             '{{< deepzoom image=`NAME` alt=`ALT` caption=`CAPTION` >}}'),
    "jekyll": ("hostile.md", "_site/hostile.html",
               "{% include deepzoom.html image=page.dz.image alt=page.dz.alt caption=page.dz.caption %}"),
    "eleventy": ("hostile.njk", "_site/hostile/index.html",
                 "{% deepzoom dz.image, alt=dz.alt, caption=dz.caption %}\n{% deepzoom dz.image %}"),
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_hostile_names_alt_and_captions_stay_data(name, tmp_path):
    require(name)
    project = tmp_path / name
    project.mkdir()
    generate, source, _ = PROJECTS[name](project)
    for page in ("content/harbour.md", "harbour.md", "harbour.njk", "liquid.liquid"):  # only the hostile page
        (project / page).unlink(missing_ok=True)
    dzbuild("init", name, cwd=project)
    make_image_folder(project / source / HOSTILE_NAME, WIDTH, HEIGHT, TILE, seed=5)
    dzbuild("build", cwd=project)
    page_file, output, body = HOSTILE_PAGE[name]
    values = {"image": HOSTILE_NAME, "alt": HOSTILE_ALT, "caption": HOSTILE_CAPTION}
    if name == "hugo":
        body = body.replace("NAME", HOSTILE_NAME).replace("ALT", HOSTILE_ALT).replace("CAPTION", HOSTILE_CAPTION)
    layout = {"hugo": "", "jekyll": "layout: page\n", "eleventy": "layout: base.njk\n"}[name]
    write(project, {page_file: f"---\ntitle: Hostile\n{layout}dz: {json.dumps(values)}\n---\n{body}\n"})
    run(generate, project)

    data = json.loads((project / ("data" if name == "hugo" else "_data") / "dzbuild.json").read_text())
    page = EmbedParser((project / output).read_text(encoding="utf-8"))
    assert len(page.embeds) == (2 if name == "eleventy" else 1)  # Eleventy: with and without alt and caption
    for embed in page.embeds:
        assert embed.settings == {  # exactly these keys: no script, whatever the name or the text
            "tileSources": data["images"][HOSTILE_NAME]["descriptor"],
            "prefixUrl": data["assets"]["openseadragon_images"],
            "options": {},
        }
    first = page.embeds[0]
    assert first.label == first.alt == HOSTILE_ALT and first.caption == HOSTILE_CAPTION
    assert first.tags == ["div", "img", "figcaption"]
    scripts = page.scripts
    ours = [attrs for attrs in scripts if "dzbuild" in attrs.get("src", "") or "evil" in str(attrs)]
    osd = f"../openseadragon/{PINNED}/openseadragon.min.js"  # from the script's folder, _dzbuild/assets/
    assert ours == [{"src": data["assets"]["embed"], "data-openseadragon": osd}]


@pytest.mark.parametrize("image", ["__proto__", "constructor", "toString"])
def test_eleventy_names_that_objects_inherit_are_unknown_images(image, tmp_path):
    project, generate = built_eleventy_project(tmp_path)
    write(project, {"harbour.njk": f'---\nlayout: base.njk\n---\n{{% deepzoom "{image}" %}}\n'})
    failed = subprocess.run(generate, cwd=project, capture_output=True, text=True, timeout=300, check=False)
    said = failed.stdout + failed.stderr
    assert failed.returncode != 0 and f'deepzoom "{image}": no such image in' in said and "TypeError" not in said
