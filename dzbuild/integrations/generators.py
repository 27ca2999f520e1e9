"""``dzbuild init hugo|jekyll|eleventy``: add dzbuild's shortcode and a matching ``dzbuild.toml`` to a project.

Each generator reads the data file ``dzbuild build`` writes into its data folder; the shortcode
(Hugo), include (Jekyll) or plugin (Eleventy) shipped here turns an image's name into dzbuild's
embed markup from that file alone. ``init`` never overwrites a file of the user's: a file that
already exists with other bytes is kept and reported, the others are still added. A file standing
where ``init`` needs a folder (``layouts`` as a file) stops it before it adds anything.

Hugo renders no page at all without a layout, and ``hugo new site`` makes a project with neither a
theme nor a layout; ``init`` then also adds a minimal one (``Generator.starter``), so the first
``dzbuild build && hugo`` shows the page with its viewer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

HERE = Path(__file__).resolve().parent

_COMMON = """\
base_url = "/zoom/"                  # where {output} is served; with a site under a sub-path, prefix it
data_file = "{data}"      # what the {embed} reads
"""


@dataclass(frozen=True)
class Generator:
    name: str
    files: dict[str, str]  # path in the project: path of the file shipped in this package
    config: str  # the dzbuild.toml
    steps: tuple[str, ...]  # what the user does next, printed after init
    starter: dict[str, str] = field(default_factory=dict)  # like files, for a project that has no layout
    has_layout: Callable[[Path], bool] = lambda folder: True  # whether the project can render pages already


HUGO_CONFIGS = tuple(f"{name}.{ext}" for name in ("hugo", "config") for ext in ("toml", "yaml", "yml", "json"))
HUGO_THEME = re.compile(r"""^\s*["']?(theme|module)["']?\s*[:=]|^\s*\[+\s*module\b""", re.MULTILINE)
HUGO_PARTS = {"shortcodes", "partials", "_shortcodes", "_partials", "_markup"}  # templates that render no page


def hugo_has_layout(folder: Path) -> bool:
    """A theme or module is configured, or ``layouts/`` holds a page template of the project's own."""
    configs = [folder / name for name in HUGO_CONFIGS] + sorted((folder / "config").glob("**/*.*"))
    texts = (path.read_text(encoding="utf-8", errors="replace") for path in configs if path.is_file())
    if any(HUGO_THEME.search(text) for text in texts):
        return True
    layouts = folder / "layouts"
    pages = (path.relative_to(layouts) for path in layouts.rglob("*.html")) if layouts.is_dir() else ()
    return any(page.parts[0] not in HUGO_PARTS for page in pages)


HUGO = Generator(
    "hugo",
    {"layouts/shortcodes/deepzoom.html": "hugo/deepzoom.html"},
    """\
# dzbuild for Hugo: image folders in zoom/ become pyramids in static/zoom/, which Hugo publishes.
# Run `dzbuild build && hugo` (or `dzbuild build && hugo server`); embed with {{< deepzoom "NAME" >}}.
source = "zoom"                      # one folder per image: pyramid.json, v0/, v1/...
output = "static/zoom"
headers_file = "static/_headers"     # Hugo copies static/ to the deploy root
redirects_file = "static/_redirects"
"""
    + _COMMON.format(output="static/zoom/", data="data/dzbuild.json", embed="deepzoom shortcode"),
    ("put image folders in zoom/ (pyramid.json, v0/...)", "dzbuild build && hugo"),
    starter={f"layouts/_default/{name}.html": f"hugo/{name}.html" for name in ("baseof", "single", "list")},
    has_layout=hugo_has_layout,
)

JEKYLL = Generator(
    "jekyll",
    {"_includes/deepzoom.html": "jekyll/deepzoom.html", "_plugins/dzbuild.rb": "jekyll/dzbuild.rb"},
    """\
# dzbuild for Jekyll: image folders in _zoom/ (Jekyll skips folders starting with "_") become
# pyramids in _site/zoom/. `jekyll build` runs `dzbuild build` first (_plugins/dzbuild.rb), with
# `keep_files: [zoom, _headers, _redirects]` in _config.yml so Jekyll keeps what it writes;
# embed with {% include deepzoom.html image="NAME" %}.
source = "_zoom"                     # one folder per image: pyramid.json, v0/, v1/...
output = "_site/zoom"
headers_file = "_site/_headers"
redirects_file = "_site/_redirects"
"""
    + _COMMON.format(output="_site/zoom/", data="_data/dzbuild.json", embed="deepzoom.html include"),
    (
        "add to _config.yml:  keep_files: [zoom, _headers, _redirects]  and  exclude: [dzbuild.toml, .dzbuild]",
        "put image folders in _zoom/ (pyramid.json, v0/...)",
        "jekyll build  (or jekyll serve; _plugins/dzbuild.rb runs dzbuild build first)",
    ),
)

ELEVENTY = Generator(
    "eleventy",
    {"dzbuild.eleventy.cjs": "eleventy/dzbuild.eleventy.cjs"},
    """\
# dzbuild for Eleventy: image folders in zoom/ become pyramids in _site/zoom/.
# Run `dzbuild build && npx @11ty/eleventy`; embed with {% deepzoom "NAME" %} (Nunjucks or Liquid).
source = "zoom"                      # one folder per image: pyramid.json, v0/, v1/...
output = "_site/zoom"
headers_file = "_site/_headers"
redirects_file = "_site/_redirects"
"""
    + _COMMON.format(output="_site/zoom/", data="_data/dzbuild.json", embed="deepzoom shortcode"),
    (
        (
            'add to your Eleventy config:  eleventyConfig.addPlugin(require("./dzbuild.eleventy.cjs"))'
            '  (ESM: import dzbuild from "./dzbuild.eleventy.cjs"; eleventyConfig.addPlugin(dzbuild))'
        ),
        "put image folders in zoom/ (pyramid.json, v0/...)",
        "dzbuild build && npx @11ty/eleventy",
    ),
)

GENERATORS = {g.name: g for g in (HUGO, JEKYLL, ELEVENTY)}
CONFIG_FILE = "dzbuild.toml"


@dataclass
class InitReport:
    added: list[str]
    unchanged: list[str]  # already there with exactly dzbuild's bytes
    kept: list[str]  # already there with other bytes: the user's, left alone
    steps: tuple[str, ...]


def project_files(generator: Generator) -> dict[str, bytes]:
    """Every file ``init`` adds for ``generator``: ``{path in the project: bytes}``."""
    files = {rel: (HERE / shipped).read_bytes() for rel, shipped in generator.files.items()}
    files[CONFIG_FILE] = generator.config.encode("utf-8")
    return files


def init_project(name: str, folder: Path | str) -> InitReport:
    """Add ``name``'s files to the project in ``folder``, keeping every file that is already there."""
    generator = GENERATORS.get(name)
    if generator is None:
        raise ConfigError(f"unknown site generator {name!r} (known: {', '.join(GENERATORS)})")
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("is not a folder: dzbuild init adds files to an existing project", folder)
    files = project_files(generator)
    if generator.starter and not generator.has_layout(folder):
        files.update({rel: (HERE / shipped).read_bytes() for rel, shipped in generator.starter.items()})
    for rel in files:
        _require_folders(folder, rel)
    report = InitReport([], [], [], generator.steps)
    for rel, data in files.items():
        path = folder / rel
        if path.exists() or path.is_symlink():
            same = path.is_file() and path.read_bytes() == data
            (report.unchanged if same else report.kept).append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:  # "x": never replace a file that appeared meanwhile
            out.write(data)
        report.added.append(rel)
    return report


def _require_folders(project: Path, rel: str) -> None:
    """Raise ``ConfigError`` when something other than a folder stands where ``rel`` needs one."""
    for parent in reversed(Path(rel).parents[:-1]):  # "layouts", then "layouts/shortcodes"
        path = project / parent
        if path.is_dir():
            continue
        if path.exists() or path.is_symlink():
            raise ConfigError(
                f"is not a folder, but dzbuild init puts {rel} in it: move it aside and run init again;"
                " nothing was added",
                path,
            )
        return  # missing: it and everything below it will be made
