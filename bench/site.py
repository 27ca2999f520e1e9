"""Site benchmark: ``dzbuild build`` of a gallery of small images, then a rerun, then one new version.

    python bench/site.py                          # 1,000 and 10,000 images, this checkout's dzbuild
    python bench/site.py --images 1000 --code ../other-checkout --code .

Every image is 768x512 (six 256-px base tiles) with one version. Each step runs the whole
``dzbuild build --json`` command in a fresh process, so start-up is counted as a user sees it:
the first build, two reruns with nothing new (the first one reads each source file the first build
published once; later ones only stat them), a rerun after one image gained a one-tile ``v1/``, and
a last rerun. Each step reports its wall time and the CPU time (user + system) of the command.
``--code`` names the checkouts to compare (their root goes first on ``PYTHONPATH``), so
two versions of dzbuild are measured on the same machine in the same run. The load average is
printed beside the numbers: the machine may be shared. ``--serve N`` then runs ``dzbuild serve`` on
the built site and lands a one-tile ``v1/`` in N other images, one at a time, timing each from the
rename to the reload event reaching a client of ``/_dzbuild/live`` (as ``bench/serve.py`` does).
``--outside`` puts the output and the cache beside the site folder: ``dzbuild serve`` watches the
site folder recursively, and with them inside it a 10,000-image site needs more inotify watches
(one per folder) than a default ``fs.inotify.max_user_watches`` allows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dzbuild.grid import Tile  # noqa: E402
from dzbuild.pyramid.spec import PyramidSpec  # noqa: E402
from dzbuild.pyramid.tiling import write_spec, write_tiles  # noqa: E402
from dzbuild.testing import synthetic_image  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT, TILE = 768, 512, 256
PICTURES = 8  # distinct pictures the images cycle through: generating each one would dominate the set-up


@dataclass
class SiteTimings:
    code: str
    images: int
    first_seconds: float
    noop_seconds: float  # the first rerun
    noop_again_seconds: float  # the next one
    new_version_seconds: float  # one image gains a v1/ changing one base tile
    new_version_computed: int
    noop_after_seconds: float
    cpu_seconds: dict  # step -> user + system CPU of the command
    output_files: int
    index_bytes: int
    load_average: str
    serve_seconds: list = field(default_factory=list)  # one-tile versions landing under dzbuild serve

    def lines(self) -> list[str]:
        return [
            f"{self.code}: {self.images} images (load average {self.load_average})",
            f"  first build          {self.first_seconds:8.2f} s  ({self.output_files} output files,"
            f" index.html {self.index_bytes / 1024:.0f} KiB)",
            f"  rerun, nothing new   {self.noop_seconds:8.2f} s",
            f"  again                {self.noop_again_seconds:8.2f} s",
            f"  one new version      {self.new_version_seconds:8.2f} s  ({self.new_version_computed} tiles computed)",
            f"  rerun, nothing new   {self.noop_after_seconds:8.2f} s",
            "  CPU (user + system)  " + ", ".join(f"{step} {cpu:.2f} s" for step, cpu in self.cpu_seconds.items()),
            *(["  serve: version to reload event " + ", ".join(f"{t:.2f}" for t in self.serve_seconds) + " s"]
              if self.serve_seconds else []),
        ]


def make_site(site: Path, images: int, outside: bool = False) -> None:
    """A site of ``images`` image folders ``img00000``..., each a copy of one of a few pictures."""
    spec = PyramidSpec(WIDTH, HEIGHT, TILE)
    templates = []
    for seed in range(min(PICTURES, images)):
        folder = site / f"img{seed:05d}"
        write_spec(folder, spec)
        write_tiles(folder / "v0", synthetic_image(WIDTH, HEIGHT, seed=seed), spec)
        templates.append({path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()})
    for index in range(len(templates), images):
        folder = site / f"img{index:05d}"
        for rel, data in templates[index % len(templates)].items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    places = 'output = "../_site"\ncache = "../cache"' if outside else 'output = "_site"'
    (site / "dzbuild.toml").write_text(f'title = "bench"\n{places}\nhost = "netlify"\n{_viewer()}')


def _viewer() -> str:
    """The OpenSeadragon of this checkout's node_modules, so every --code checkout copies the same one."""
    folder = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon"
    return f'\n[viewer]\nopenseadragon_dir = "{folder.as_posix()}"\n' if folder.is_dir() else ""


def add_version(image: Path) -> None:
    """Give ``image`` a ``v1/`` replacing its first base tile with another picture's."""
    write_version(image / "v1")


def write_version(folder: Path) -> None:
    """A version folder holding one base tile, from another picture than the images'."""
    spec = PyramidSpec(WIDTH, HEIGHT, TILE)
    pixels = synthetic_image(WIDTH, HEIGHT, seed=4242)
    write_tiles(folder, pixels, spec, [Tile(spec.grid.max_level, 0, 0)])


def build(site: Path, code: Path, jobs: int | None) -> tuple[dict, float, float]:
    """Run ``dzbuild build SITE --json`` with ``code`` first on the path; return its summary, wall and CPU time."""
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    command = [sys.executable, "-m", "dzbuild", "build", str(site), "--json", "--progress", "quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"dzbuild build failed ({done.returncode}): {done.stderr.strip()}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return json.loads(done.stdout), seconds, cpu


def serve_latency(site: Path, code: Path, jobs: int | None, landings: int) -> list[float]:
    """Seconds from a one-tile ``v1/`` landing in image 1, 2... to the reload event, under ``dzbuild serve``."""
    from bench.serve import Server, wait_for_reload

    os.environ["PYTHONPATH"] = str(code.resolve())  # the server is a child of this process
    server = Server(site, jobs)
    try:
        times = []
        for index in range(1, landings + 1):
            stream = urllib.request.urlopen(f"{server.url}_dzbuild/live", timeout=300)
            found: dict = {}
            listener = threading.Thread(target=wait_for_reload, args=(stream, found))
            listener.start()
            staging = site.parent / f"staging-{index}"
            write_version(staging)  # written beside the site, then renamed in: it lands whole
            landed = time.time()
            os.rename(staging, site / f"img{index:05d}" / "v1")
            listener.join(timeout=300)
            times.append(found["event"] - landed)
            time.sleep(2)  # the deferred build's second half (linking into the output) ends before the next
        return times
    finally:
        server.stop()
        os.environ.pop("PYTHONPATH", None)


def run_site_benchmark(
    out: Path, images: int, code: Path = REPO, jobs: int | None = None, log=print, serve: int = 0, outside=False
) -> SiteTimings:
    """Measure the four builds of a fresh site of ``images`` images; the site is removed afterwards."""
    run = out / f"site-run-{images}-{os.getpid()}-{time.strftime('%H%M%S')}"
    site = run / "site"
    try:
        make_site(site, images, outside)
        log(f"{images} images generated in {site}")
        cpu = {}
        first, first_seconds, cpu["first"] = build(site, code, jobs)
        log(f"first build: {first_seconds:.2f} s")
        _, noop_seconds, cpu["rerun"] = build(site, code, jobs)
        _, again_seconds, cpu["again"] = build(site, code, jobs)
        add_version(site / "img00000")
        new, new_seconds, cpu["new version"] = build(site, code, jobs)
        _, after_seconds, cpu["rerun after"] = build(site, code, jobs)
        index = (site.parent / "_site" if outside else site / "_site").joinpath("index.html").stat().st_size
        timings = SiteTimings(
            str(code), images, first_seconds, noop_seconds, again_seconds, new_seconds, new["tiles_computed"],
            after_seconds, cpu, first["output_files"], index, load_average(),
        )  # fmt: skip
        log("\n".join(timings.lines()))  # before serve: its numbers are kept if serve fails
        if serve:
            timings.serve_seconds = serve_latency(site, code, jobs, min(serve, images - 1))
        return timings
    finally:
        shutil.rmtree(run, ignore_errors=True)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark dzbuild build on a generated gallery of small images.")
    parser.add_argument("--images", type=int, action="append", help="images in the site (default: 1000 and 10000)")
    parser.add_argument("--code", type=Path, action="append", help="checkout to measure (repeatable; default: this)")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: every core)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run folder (default bench/out)")
    parser.add_argument("--serve", type=int, default=0, help="versions to land under dzbuild serve (default 0)")
    parser.add_argument("--outside", action="store_true", help="output and cache beside the site folder")
    parser.add_argument("--json", action="store_true", help="print the timings as JSON")
    args = parser.parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr)  # noqa: E731 - progress on stderr, the table on stdout
    results = [
        run_site_benchmark(args.out, count, code, args.jobs, log, args.serve, args.outside)
        for count in args.images or [1000, 10000]
        for code in args.code or [REPO]
    ]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print("\n".join(line for result in results for line in result.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
