"""What dzbuild adds to a site generator's build, measured side by side, never asserted.

    python example_site/generate.py && python bench/generators.py            # 5 repetitions
    python bench/generators.py --reps 9 --out /tmp/b

1. A rebuild with nothing new of a small mkdocs site that embeds the four example images, with the
   plugin and without it (the same pages, plain links instead of viewers); the same for Sphinx
   (the ``deepzoom`` directive against a note). Whole ``mkdocs build`` (also ``--dirty``, which
   keeps site_dir instead of emptying it, so the pyramids need not be linked again) and
   ``sphinx-build`` processes, run alternately; the difference of the medians is dzbuild's cost,
   in wall time and in CPU time (user + system, which a machine busy with other work disturbs less).
2. Under ``mkdocs serve``: the time from renaming a complete new ``v{n}/`` (one retouched tile)
   into a watched image folder to the served page naming ``v{n}``, polled every 20 ms. mkdocs waits
   for the file events to settle before it rebuilds; that wait is part of what a user sees.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
IMAGES = ("harbour", "gallery/dunes", "gallery/reef", "gallery/orchard")
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1")


def make_projects(base: Path) -> Path:
    """``base/images`` (a copy of the example images), an mkdocs and a Sphinx project beside it."""
    if base.exists():
        shutil.rmtree(base)
    shutil.copytree(ROOT / "example_site", base / "images", ignore=shutil.ignore_patterns("_site", ".dzbuild*"))
    embeds = "\n\n".join(f"![{rel}](zoom/{rel}/)" for rel in IMAGES)
    links = "\n\n".join(f"[{rel}](https://example.org/zoom/{rel}/)" for rel in IMAGES)
    for name, body, plugin in (("with", embeds, "  - dzbuild:\n      source: ../images\n      prefix: zoom\n"),
                               ("without", links, "")):
        docs = base / f"mkdocs-{name}" / "docs"
        docs.mkdir(parents=True)
        (docs / "index.md").write_text(f"# Images\n\n{body}\n")
        (docs.parent / "mkdocs.yml").write_text(f"site_name: Bench\nplugins:\n  - search\n{plugin}")
    for name, extension in (("with", '"dzbuild.sphinx"'), ("without", "")):
        src = base / f"sphinx-{name}"
        src.mkdir()
        (src / "conf.py").write_text(f'project = "Bench"\nextensions = [{extension}]\n')
        lines = [f".. deepzoom:: ../images/{rel}\n" if extension else f".. note:: {rel}\n" for rel in IMAGES]
        (src / "index.rst").write_text("Images\n======\n\n" + "\n".join(lines))
    return base


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def rebuilds(base: Path, reps: int) -> dict[tuple[str, bool], list[tuple[float, float]]]:
    """Alternate the four builds ``reps`` times after one untimed build each (the first builds tiles)."""
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "-q"]
    sphinx = [sys.executable, "-m", "sphinx", "-q", "-b", "html", ".", "_build"]
    commands = {
        ("mkdocs", True): (mkdocs, base / "mkdocs-with"),
        ("mkdocs", False): (mkdocs, base / "mkdocs-without"),
        ("mkdocs-dirty", True): ([*mkdocs, "--dirty"], base / "mkdocs-with"),
        ("mkdocs-dirty", False): ([*mkdocs, "--dirty"], base / "mkdocs-without"),
        ("sphinx", True): (sphinx, base / "sphinx-with"),
        ("sphinx", False): (sphinx, base / "sphinx-without"),
    }
    for command, cwd in commands.values():
        timed(command, cwd)
    times: dict[tuple[str, bool], list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(reps):
        for name, (command, cwd) in commands.items():
            times[name].append(timed(command, cwd))
    return times


def serve_latency(base: Path, reps: int, port: int = 8765) -> list[float]:
    """Seconds from moving ``v{n}/`` in to the served page naming it, for ``reps`` new versions."""
    project = base / "mkdocs-with"
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"], cwd=project,
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    harbour = base / "images" / "harbour"
    try:
        poll(port, "zoom/harbour/dzi/v1/dzi.xml", 120)
        time.sleep(1.0)  # let the first build's file events settle
        results = []
        for number in range(2, 2 + reps):
            staged = harbour / f".v{number}"
            staged.mkdir()
            shutil.copyfile(harbour / "v0" / f"{number % 5}_1.jpg", staged / "0_0.jpg")
            started = time.perf_counter()
            staged.rename(harbour / f"v{number}")
            poll(port, f"zoom/harbour/dzi/v{number}/dzi.xml", 120)
            results.append(time.perf_counter() - started)
            time.sleep(0.5)
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def poll(port: int, needle: str, limit: float) -> None:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if needle in response.read().decode("utf-8"):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"mkdocs serve never showed {needle}")


def render(times: dict[tuple[str, bool], list[tuple[float, float]]], latency: list[float]) -> str:
    reps = len(times["mkdocs", True])
    lines = [f"rebuild with nothing new (whole process, median of {reps}; CPU = user + system)"]
    for generator in ("mkdocs", "mkdocs-dirty", "sphinx"):
        for column, label in ((0, "wall"), (1, "CPU ")):
            with_, without = (statistics.median(t[column] for t in times[generator, on]) for on in (True, False))
            lines.append(
                f"  {generator:12} {label} with dzbuild {with_:.3f} s   without {without:.3f} s"
                f"   adds {with_ - without:+.3f} s"
            )
    if latency:
        shown = " ".join(f"{value:.2f}" for value in latency)
        median = statistics.median(latency)
        lines.append(f"mkdocs serve: new v{{n}} moved in -> page names it: median {median:.2f} s ({shown})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-serve", action="store_true", help="skip the mkdocs serve measurement")
    args = parser.parse_args(argv)
    if not (ROOT / "example_site" / "harbour" / "v1").is_dir():
        raise SystemExit("run `python example_site/generate.py` first")
    base = make_projects(args.out / "generators")
    text = render(rebuilds(base, args.reps), [] if args.no_serve else serve_latency(base, args.reps))
    print(text)
    (args.out / "generators-report.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
