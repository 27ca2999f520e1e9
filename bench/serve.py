"""Serve latency: a one-tile ``v{n}/`` lands in a served 16384² image; how long until the page shows it?

``dzbuild serve`` runs as the real command on a site holding the benchmark image (its ``v0/`` hard
linked from ``bench/out/images``), with its worker pool warm. Each repetition moves a folder
holding one changed base tile into the image folder as ``v{n}/`` (written beside it first, so
it lands whole) and measures, from that rename, on the machine's one clock:

- ``event``: the reload event reaching a client of ``/_dzbuild/live`` (the watcher noticed,
  the incremental rebuild published ``v{n}`` in the cache and wrote the pages, the server told
  the pages; the output's links follow right after, off this path);
- ``page``: the reloaded page starting its navigation (headless Chromium, when available);
- ``tile``: the page receiving its first tile of ``v{n}`` (a computed ancestor of the patch,
  drawn at the home zoom): the patch is on screen.

Target: under 0.3 s. Not a test: the numbers depend on the machine and its load.

    python bench/serve.py                      # 16384x16384, 5 repetitions
    python bench/serve.py --size 4096 --reps 3 # a quick look
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.images import BenchImage  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TARGET = 0.3


def make_site(image: BenchImage, run: Path) -> Path:
    site = run / "site"
    (site / "big").mkdir(parents=True)
    shutil.copy(image.dir / "pyramid.json", site / "big" / "pyramid.json")
    subprocess.run(["cp", "-al", str(image.dir / "v0"), str(site / "big" / "v0")], check=True)
    (site / "dzbuild.toml").write_text('title = "serve latency"\nhost = "none"\n', encoding="utf-8")
    return site


class Server:
    """``dzbuild serve`` as a child process; its URL from the line printed once it watches."""

    def __init__(self, site: Path, jobs: int | None) -> None:
        command = [sys.executable, "-m", "dzbuild", "serve", str(site), "--port", "0"]
        command += ["--jobs", str(jobs)] if jobs else []
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        for line in self.process.stdout:
            print("  " + line.rstrip(), flush=True)
            found = re.search(r" at (http://127\.0\.0\.1:\d+/) ", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise SystemExit("dzbuild serve ended before serving")
        threading.Thread(target=self._echo, daemon=True).start()

    def _echo(self) -> None:
        for line in self.process.stdout:
            print("  " + line.rstrip(), flush=True)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def wait_for_reload(stream, found: dict) -> None:
    """Read the live endpoint until its ``reload`` event; note the wall-clock time it arrived."""
    with stream:
        for raw in stream:
            if raw.startswith(b"event: reload"):
                found["event"] = time.time()
                return


def land_patch(image: BenchImage, site: Path, number: int) -> float:
    """Move a folder with the benchmark's changed tile into place as ``v{number}``; return when."""
    staging = site.parent / f"staging-v{number}"
    staging.mkdir()
    for tile in (image.patch_dir / "v1").iterdir():
        shutil.copy(tile, staging / tile.name)
    landed = time.time()
    os.rename(staging, site / "big" / f"v{number}")
    return landed


def open_browser():
    if not Path(CHROMIUM).exists():
        return None, None
    try:
        from playwright.sync_api import sync_playwright

        from dzbuild.testing.viewer import CHROMIUM_ARGS
    except ImportError:
        return None, None
    playwright = sync_playwright().start()
    return playwright, playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def page_times(page, number: int) -> tuple[float | None, float | None]:
    """Navigation start of the reloaded page and the end of its first ``v{number}`` tile, in epoch seconds."""
    pattern = f"/dzi/v{number}/dzi_files/"
    page.wait_for_function(
        "p => performance.getEntriesByType('resource').some(e => e.name.includes(p) && e.responseEnd > 0)",
        arg=pattern, timeout=60_000,
    )  # fmt: skip
    origin, first = page.evaluate(
        """p => [performance.timeOrigin, Math.min(...performance.getEntriesByType('resource')
              .filter(e => e.name.includes(p)).map(e => e.responseEnd))]""",
        pattern,
    )
    return origin / 1000, (origin + first) / 1000


def repetition(server: Server, image: BenchImage, site: Path, number: int, page) -> dict:
    if page is not None:
        with page.expect_response(lambda response: "_dzbuild/live" in response.url):  # its event stream is open
            page.goto(f"{server.url}big/")
    stream = urllib.request.urlopen(f"{server.url}_dzbuild/live", timeout=120)  # connected: waits for the next build
    found: dict = {}
    listener = threading.Thread(target=wait_for_reload, args=(stream, found))
    listener.start()  # urlopen returned with the headers: the stream already counts from this build
    landed = land_patch(image, site, number)
    listener.join(timeout=120)
    times = {"event": found["event"] - landed}
    if page is not None:
        nav, tile = page_times(page, number)
        times.update(page=nav - landed, tile=tile - landed)
    times["cp_al"] = link_floor(site, number)
    return times


def link_floor(site: Path, number: int) -> float:
    """``cp -al`` of the new version folder: what linking one version's files costs on this disk now.

    Publishing a version in the cache links every unchanged tile once, so this is about the floor
    of ``event`` before any tile is computed.
    """
    published = site / ".dzbuild" / "tree" / "big" / "dzi" / f"v{number}"
    copy = site.parent / f"floor-v{number}"
    started = time.perf_counter()
    subprocess.run(["cp", "-al", str(published), str(copy)], check=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(copy)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    report(run_benchmark(args.size, args.reps, args.jobs, args.out), args.size)
    return 0


def run_benchmark(size: int, reps: int, jobs: int | None, out: Path, browser_wanted: bool = True) -> list[dict]:
    """Serve a ``size``² image and land ``reps`` one-tile patches; the times of each, in seconds."""
    image = BenchImage(out / "images", size)
    image.ensure(whole_jpeg=False)
    run = out / f"serve-{size}"
    shutil.rmtree(run, ignore_errors=True)
    site = make_site(image, run)
    print(f"building and serving a {size}x{size} image ...", flush=True)
    server = Server(site, jobs)
    playwright, browser = open_browser() if browser_wanted else (None, None)
    page = browser.new_page() if browser is not None else None
    results = []
    try:
        for number in range(1, reps + 1):
            results.append(repetition(server, image, site, number, page))
            print(f"v{number}: " + ", ".join(f"{k} {v:.3f} s" for k, v in results[-1].items()), flush=True)
    finally:
        if browser is not None:
            browser.close()
            playwright.stop()
        server.stop()
    shutil.rmtree(run, ignore_errors=True)
    return results


def report(results: list[dict], size: int) -> None:
    print(f"\nserve latency, {size}x{size}, one-tile patch, median of {len(results)} (from the patch landing):")
    for key, meaning in [("event", "rebuild published, reload event received"),
                         ("page", "reloaded page starts loading"),
                         ("tile", "first tile of the new version received by the page"),
                         ("cp_al", "floor: cp -al of one version folder (publishing links it once)")]:  # fmt: skip
        if results and key in results[0]:
            values = [r[key] for r in results]
            verdict = "" if key == "cp_al" else "; meets" if statistics.median(values) < TARGET else "; misses"
            verdict += f" the {TARGET} s target" if verdict else ""
            print(f"  {key:5} {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"
                  f"  {meaning}{verdict}")


if __name__ == "__main__":
    sys.exit(main())
