"""What dzbuild adds to a Hugo, Jekyll or Eleventy rebuild when nothing changed.

    python bench/ssg.py                  # every generator that is installed, 7 repetitions
    python bench/ssg.py --repeat 15 hugo

Each project is made by ``dzbuild init`` with the example site's four images (one with two
versions, three in a collection) and a page embedding two of them, then built once. The
numbers are wall times of the commands a user types, side by side: ``dzbuild build`` with
nothing new, the generator's own build, and the two in sequence. Medians over ``--repeat`` runs.
Not a test: the machine's load moves every number.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from example_site.generate import generate  # noqa: E402

ELEVENTY = REPO / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
LAYOUT = "<!doctype html><html><head><title>t</title></head><body>{}</body></html>\n"
PROJECTS = {  # source folder, files, the generator's command
    "hugo": ("zoom", {
        "hugo.toml": 'baseURL = "http://127.0.0.1/"\ntitle = "t"\n',
        "layouts/_default/single.html": LAYOUT.format("{{ .Content }}"),
        "content/page.md": '---\ntitle: P\n---\n{{< deepzoom "harbour" >}}\n\n{{< deepzoom "gallery/dunes" >}}\n',
    }, ["hugo", "--quiet"]),
    "jekyll": ("_zoom", {
        # Its plugin would run dzbuild inside `jekyll build`: "true" keeps the two measured apart.
        "_config.yml": "title: t\nkeep_files: [zoom, _headers, _redirects]\nexclude: [dzbuild.toml, .dzbuild]\n"
                       "dzbuild_command: [\"true\"]\n",
        "_layouts/default.html": LAYOUT.format("{{ content }}"),
        "page.md": '---\nlayout: default\n---\n{% include deepzoom.html image="harbour" %}\n\n'
                   '{% include deepzoom.html image="gallery/dunes" %}\n',
    }, ["jekyll", "build", "--quiet"]),
    "eleventy": ("zoom", {
        "eleventy.config.js": 'module.exports = (c) => { c.addPlugin(require("./dzbuild.eleventy.cjs")); };\n',
        "_includes/base.njk": LAYOUT.format("{{ content | safe }}"),
        "page.njk": '---\nlayout: base.njk\n---\n{% deepzoom "harbour" %}\n{% deepzoom "gallery/dunes" %}\n',
    }, ["node", str(ELEVENTY), "--quiet"]),
}


def available(name: str) -> bool:
    return ELEVENTY.is_file() and shutil.which("node") is not None if name == "eleventy" else bool(shutil.which(name))


def make_project(root: Path, name: str) -> list[str]:
    source, files, command = PROJECTS[name]
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dzbuild", "init", name, str(root)], check=True, capture_output=True)
    generate(root / ".example")
    (root / source).mkdir()
    for part in ("harbour", "gallery"):
        shutil.move(root / ".example" / part, root / source / part)
    shutil.rmtree(root / ".example")
    return command


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(name: str, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generator = make_project(root, name)
        dzbuild = [sys.executable, "-m", "dzbuild", "build", "--progress", "quiet"]
        timed(dzbuild, root)  # the first build: every pyramid
        timed(generator, root)
        runs = {"dzbuild build (nothing new)": [], name: [], "both": []}
        for _ in range(repeat):
            runs["dzbuild build (nothing new)"].append(timed(dzbuild, root))
            runs[name].append(timed(generator, root))
            started = time.perf_counter()
            timed(dzbuild, root)
            timed(generator, root)
            runs["both"].append(time.perf_counter() - started)
    return {label: statistics.median(times) for label, times in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generators", nargs="*", default=list(PROJECTS))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name in args.generators:
        if not available(name):
            print(f"{name}: not installed, skipped")
            continue
        numbers = measure(name, args.repeat)
        print(f"{name}: " + ", ".join(f"{label} {seconds:.3f} s" for label, seconds in numbers.items()))


if __name__ == "__main__":
    main()
