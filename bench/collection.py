"""Collections benchmark (target 7 of bench/run.py): 1,000 small images, then one more, then a new version.

    python bench/collection.py                 # 1,000 items, every core
    python bench/collection.py --items 200 -j 1

Source tiles of the items (64..300 px pictures) are generated once and cached in
``OUT/collection-sources``; every run builds the items' own pyramids and the collection into a
fresh folder, so the two costs compare like for like. ``run_collection_benchmark`` returns the
numbers for ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dzbuild.api import Executor  # noqa: E402
from dzbuild.collection import build_collection  # noqa: E402
from dzbuild.grid import Tile  # noqa: E402
from dzbuild.pyramid.build import BuildOptions, build_pyramid  # noqa: E402
from dzbuild.pyramid.spec import PyramidSpec, load_spec  # noqa: E402
from dzbuild.pyramid.tiling import write_spec, write_tiles  # noqa: E402
from dzbuild.run.select import open_executor  # noqa: E402
from dzbuild.testing import synthetic_image  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
GENERATOR = "collection-1"  # bump when the pictures change, so cached sources are regenerated
TILE_SIZES = (256, 128, 64)


@dataclass
class CollectionTimings:
    items: int
    jobs: int
    max_level: int
    members_seconds: float  # the items' own pyramids, from scratch
    collection_seconds: float  # the collection's shared tiles, from scratch
    collection_tiles: int
    add_seconds: float  # one more item joins, median of ``adds`` (its pyramid is built first, not counted)
    add_computed: int  # the most tiles one of them computed
    add_linked: int
    version_seconds: float  # that item gains a version changing one base tile (collection step only)
    version_computed: int
    noop_seconds: float  # a rerun with nothing new

    def lines(self) -> list[str]:
        return [
            f"{self.items} items, {self.jobs} jobs, MaxLevel {self.max_level}",
            f"  items' own pyramids     {self.members_seconds:8.2f} s",
            f"  collection from scratch {self.collection_seconds:8.2f} s  ({self.collection_tiles} shared tiles)",
            (
                f"  + one item (median)     {self.add_seconds:8.3f} s  (at most {self.add_computed} computed,"
                f" {self.add_linked} linked)"
            ),
            f"  + one member version    {self.version_seconds:8.3f} s  ({self.version_computed} computed)",
            f"  rerun, nothing new      {self.noop_seconds:8.3f} s",
        ]


def item_shape(index: int) -> tuple[int, int, int]:
    """Deterministic small sizes (64..300 px) and member tile sizes, some smaller than a level-8 cell."""
    width = 64 + (index * 37) % 237
    height = 64 + (index * 53 + 11) % 237
    return width, height, TILE_SIZES[index % len(TILE_SIZES)]


def source_dir(out: Path, index: int) -> Path:
    """The cached source folder of item ``index`` (pyramid.json and a complete v0/)."""
    folder = out / "collection-sources" / GENERATOR / f"item{index:05d}"
    if not (folder / "v0").is_dir():
        width, height, tile = item_shape(index)
        spec = PyramidSpec(width, height, tile)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_spec(tmp, spec)
        write_tiles(tmp / "v0", synthetic_image(width, height, seed=index), spec)
        tmp.rename(folder)
    return folder


def run_collection_benchmark(
    out: Path = DEFAULT_OUT, items: int = 1000, jobs: int | None = None, adds: int = 3, log=print, executor=None
) -> CollectionTimings:
    """Build ``items`` pyramids and their collection, add ``adds`` items one by one, then a member version."""
    sources = [source_dir(out, i) for i in range(items + adds)]
    run = out / f"collection-run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    try:
        with open_executor(executor, jobs) as opened:  # executor: None (fork pool), or e.g. "dask"
            return _measure(run, sources, items, opened, log)
    finally:
        shutil.rmtree(run, ignore_errors=True)


def _measure(run: Path, sources: list[Path], items: int, executor: Executor, log) -> CollectionTimings:
    members = [(src.name, run / "images" / src.name) for src in sources[:items]]
    options = BuildOptions(jobs=executor.jobs)
    started = time.perf_counter()
    for src, (_, dest) in zip(sources, members, strict=False):  # members: the first `items` sources
        build_pyramid(src, dest, options, executor=executor)
    members_seconds = time.perf_counter() - started
    log(f"{items} pyramids built in {members_seconds:.2f} s")
    coll = run / "collection"
    full = _timed(lambda: build_collection(coll, "bench", members, executor=executor))
    log(f"collection of {items} built in {full[1]:.2f} s")
    adds = []
    for extra_source in sources[items:]:  # one item at a time; each copied, so its new version never
        extra = run / extra_source.name  # touches the cached sources
        shutil.copytree(extra_source, extra)
        members.append((extra.name, run / "images" / extra.name))
        build_pyramid(extra, members[-1][1], options, executor=executor)
        adds.append(_timed(lambda: build_collection(coll, "bench", members, executor=executor)))
    retouch_first_tile(extra)
    build_pyramid(extra, members[-1][1], options, executor=executor)
    version = _timed(lambda: build_collection(coll, "bench", members, executor=executor))
    noop = _timed(lambda: build_collection(coll, "bench", members, executor=executor))
    first, changed = full[0].versions[0], version[0].versions[0]
    added = [report.versions[0] for report, _ in adds]
    return CollectionTimings(
        items, executor.jobs, 8, members_seconds, full[1], first.computed,
        statistics.median(seconds for _, seconds in adds), max(v.computed for v in added), added[-1].linked,
        version[1], changed.computed, noop[1],
    )  # fmt: skip


def retouch_first_tile(image_dir: Path) -> None:
    """Add a ``v1/`` that replaces the first base tile with another picture's."""
    spec = load_spec(image_dir)
    pixels = synthetic_image(spec.width, spec.height, seed=12345)
    write_tiles(image_dir / "v1", pixels, spec, [Tile(spec.grid.max_level, 0, 0)])


def _timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Deep Zoom Collections: build, add one item, add a version.")
    parser.add_argument("--items", type=int, default=1000, help="items in the collection (default 1000)")
    parser.add_argument("--adds", type=int, default=3, help="items added one by one afterwards (default 3)")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: every core)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache and run folder (default bench/out)")
    parser.add_argument("--json", action="store_true", help="print the timings as JSON")
    args = parser.parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr)  # noqa: E731 - progress on stderr, the table on stdout
    timings = run_collection_benchmark(args.out, args.items, args.jobs, max(1, args.adds), log=log)
    print(json.dumps(asdict(timings), indent=2) if args.json else "\n".join(timings.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
