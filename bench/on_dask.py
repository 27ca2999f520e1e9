"""Benchmark the Dask executor against the fork pool, side by side in one run.

    pip install ./plugins/dzbuild-dask && python bench/on_dask.py                   # 32768^2 and memory at 16384^2
    python bench/on_dask.py --compare 32768 --memory 16384,65536 --collection 1000  # every target

1. ``--compare``: the same pre-cut image built by the fork pool and by a LocalCluster of the
   same number of one-thread workers (``--jobs``, default 2), alternating, ``--reps`` times each;
   wall time of the whole command (the cluster's start included) and of the build alone, and
   whether the two outputs are byte-identical. Then the same builds in one process that keeps both
   executors open (a started cluster, forked workers), alternating: the cost per build without
   any start-up.
2. ``--memory``: peak RSS of the client and of each Dask worker per size, the client's growth from
   the first size to the last (target: at most 1.05x), and the largest work unit's pickled size
   (the version's tables stay out of the units, so it does not grow with the image).
   ``--repeat SIZE`` makes those images from the first compared size's tiles, repeated (hard
   links): the memory targets need the tile count, not new pixels, and generating a 65536^2
   picture takes hours on a small machine.
3. ``--collection N``: the N-image collection benchmark (``bench/collection.py``) on each executor.

Images are cached in ``OUT/images`` as for ``bench/run.py``; outputs are deleted after each run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import measure  # noqa: E402
from bench.images import BenchImage  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"

# Builds one image on a LocalCluster; prints the build's seconds, every process's peak RSS (KiB) and
# the largest unit's pickled size (pickled here once more: a few hundred bytes per unit).
DASK_DRIVER = """\
import json, pickle, resource, sys, time
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.run.select import open_executor

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

if __name__ == "__main__":
    image, dest, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open_executor("dask", jobs) as pool:
        started = time.perf_counter()
        pool.prewarm(jobs)
        cluster = time.perf_counter() - started
        sizes, start = [0], pool.start
        def start_recorded(fn, items, workers=None):
            items = list(items)
            sizes.extend(len(pickle.dumps(item, pickle.HIGHEST_PROTOCOL)) for item in items)
            return start(fn, items, workers)
        pool.start = start_recorded
        report = build_pyramid(image, dest, BuildOptions(jobs=jobs), executor=pool)
        workers = pool.client.run(peak)
    print(json.dumps({"cluster": cluster, "build": report.seconds, "client_kib": peak(), "workers_kib": workers,
                      "unit_bytes": max(sizes)}))
"""


# Builds one image again and again, alternating a fork pool and a LocalCluster that both stay open.
WARM_DRIVER = """\
import json, shutil, sys, time
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.run.select import open_executor

if __name__ == "__main__":
    image, dest, jobs, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    times = {"fork": [], "dask": []}
    with open_executor("fork", jobs) as fork, open_executor("dask", jobs) as dask:
        dask.prewarm(jobs)
        for _ in range(reps):
            for name, pool in (("fork", fork), ("dask", dask)):
                shutil.rmtree(dest, ignore_errors=True)
                started = time.perf_counter()
                build_pyramid(image, dest, BuildOptions(jobs=jobs), executor=pool)
                times[name].append(time.perf_counter() - started)
    shutil.rmtree(dest, ignore_errors=True)
    print(json.dumps(times))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The Dask executor against the fork pool.")
    parser.add_argument("--compare", default="32768", help="sizes built by both executors (comma-separated)")
    parser.add_argument("--memory", default="16384", help="sizes whose client and worker peak RSS are measured")
    parser.add_argument("--repeat", action="store_true", help="--memory images repeat the --compare image's tiles")
    parser.add_argument("--collection", type=int, default=0, help="items of the collection benchmark (0: skip)")
    parser.add_argument("--jobs", type=int, default=2, help="workers of both executors (default 2)")
    parser.add_argument("--reps", type=int, default=2, help="runs of each executor per compared size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (cached images, runs)")
    args = parser.parse_args(argv)
    args.compare = [int(s) for s in args.compare.split(",") if s.strip()]
    args.memory = [int(s) for s in args.memory.split(",") if s.strip()]
    return args


def fork_run(image: BenchImage, dest: Path, jobs: int) -> dict:
    run = measure.dzbuild_with_rss(["pyramid", image.dir, "--dest", dest, "--jobs", jobs, "--json"])
    return {"wall": run.wall, "build": json.loads(run.stdout)["seconds"], "client_mb": run.parent_mb,
            "workers_mb": [run.worker_mb]}  # fmt: skip


def dask_run(image: BenchImage, dest: Path, jobs: int) -> dict:
    run = measure.run([sys.executable, "-c", DASK_DRIVER, image.dir, dest, jobs])
    data = json.loads(run.stdout.strip().splitlines()[-1])
    workers = [kib / 1024 for _, kib in sorted(data["workers_kib"].items())]
    return {"wall": run.wall, "build": data["build"], "cluster": data["cluster"], "unit_bytes": data["unit_bytes"],
            "client_mb": data["client_kib"] / 1024, "workers_mb": workers}  # fmt: skip


def digest(folder: Path) -> str:
    """One hash of every published file's path and bytes (build state left out)."""
    total = hashlib.sha256()
    for path in sorted(p for p in (folder / "dzi").rglob("*") if p.is_file()):
        total.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return total.hexdigest()


def compare(args: argparse.Namespace, size: int, log) -> list[str]:
    image = BenchImage(args.out / "images", size)
    image.ensure(whole_jpeg=False, log=log)
    image.warm_up()
    runs: dict[str, list[dict]] = {"fork": [], "dask": []}
    digests = {}
    for rep in range(args.reps):
        for name, build in (("fork", fork_run), ("dask", dask_run)):
            dest = args.out / f"dask-bench-{name}-{size}"
            try:
                runs[name].append(build(image, dest, args.jobs))
                digests.setdefault(name, digest(dest))
            finally:
                shutil.rmtree(dest, ignore_errors=True)
            log(f"{size}^2 {name} run {rep + 1}: {runs[name][-1]}")
    best = {name: min(r["wall"] for r in found) for name, found in runs.items()}
    build = {name: min(r["build"] for r in found) for name, found in runs.items()}
    cluster = min(r["cluster"] for r in runs["dask"])
    warm_dest = args.out / "dask-bench-warm"
    warm = measure.run([sys.executable, "-c", WARM_DRIVER, image.dir, warm_dest, args.jobs, args.reps])
    warm_times = json.loads(warm.stdout.strip().splitlines()[-1])
    log(f"{size}^2 warm: {warm_times}")
    warm_best = {name: min(found) for name, found in warm_times.items()}
    return [
        f"{size}^2, {args.jobs} workers, best of {args.reps} (load after: {measure.load_average()}):"
        f" fork {best['fork']:.2f} s wall ({build['fork']:.2f} s build);"
        f" dask {best['dask']:.2f} s wall ({build['dask']:.2f} s build, of which {cluster:.2f} s starting the cluster)",
        f"  dask / fork: {best['dask'] / best['fork']:.2f}x wall, {build['dask'] / build['fork']:.2f}x build;"
        f" output identical: {digests['fork'] == digests['dask']}",
        f"  both executors kept open, alternating: fork {warm_best['fork']:.2f} s, dask {warm_best['dask']:.2f} s"
        f" ({warm_best['dask'] / warm_best['fork']:.2f}x)",
    ]


def repeated(args: argparse.Namespace, size: int) -> BenchImage:
    """A ``size``^2 image folder whose tile (c, r) is a hard link to the compared image's (c mod n, r mod n)."""
    source = BenchImage(args.out / "images", args.compare[0])
    source.ensure(whole_jpeg=False)
    image = BenchImage(args.out / "images" / "repeated", size)
    if not (image.dir / "v0").is_dir():
        shutil.rmtree(image.dir, ignore_errors=True)
        (image.dir / "v0").mkdir(parents=True)
        spec = json.loads((source.dir / "pyramid.json").read_text())
        (image.dir / "pyramid.json").write_text(json.dumps({**spec, "width": size, "height": size}))
        count, n = size // 256, args.compare[0] // 256
        for row in range(count):
            for col in range(count):
                target = source.dir / "v0" / f"{col % n}_{row % n}.jpg"
                (image.dir / "v0" / f"{col}_{row}.jpg").hardlink_to(target)
    return image


def memory(args: argparse.Namespace, log) -> list[str]:
    lines, clients = [], []
    for size in args.memory:
        if args.repeat:
            image = repeated(args, size)
        else:
            image = BenchImage(args.out / "images", size)
            image.ensure(whole_jpeg=False, log=log)
        dest = args.out / f"dask-bench-memory-{size}"
        try:
            run = dask_run(image, dest, args.jobs)
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        log(f"{size}^2 dask: {run}")
        workers = ", ".join(f"{mb:.0f}" for mb in run["workers_mb"])
        clients.append(run["client_mb"])
        lines.append(
            f"{size}^2 on dask{' (repeated tiles)' if args.repeat else ''}: {run['wall']:.2f} s wall,"
            f" {run['build']:.2f} s build, {image.grid.total_tiles} tiles;"
            f" peak RSS client {run['client_mb']:.1f} MB, workers {workers} MB;"
            f" largest unit {run['unit_bytes']} bytes pickled (load after: {measure.load_average()})"
        )
    if len(clients) > 1:
        growth = clients[-1] / clients[0]
        lines.append(f"  client peak RSS {args.memory[0]}^2 -> {args.memory[-1]}^2: {growth:.3f}x (target 1.05x)")
    return lines


def collection(args: argparse.Namespace, log) -> list[str]:
    from bench.collection import run_collection_benchmark

    lines = []
    for name in ("fork", "dask"):
        timings = run_collection_benchmark(args.out, items=args.collection, jobs=args.jobs, executor=name, log=log)
        lines += [f"{name}: {line}" for line in timings.lines()]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    lines = [f"dzbuild Dask benchmark, {time.strftime('%Y-%m-%d %H:%M')}, load {measure.load_average()}"]
    for size in args.compare:
        lines += compare(args, size, log)
    lines += memory(args, log)
    if args.collection:
        lines += collection(args, log)
    text = "\n".join(lines)
    print(text)
    (args.out / f"dask-report-{time.strftime('%Y%m%d-%H%M%S')}.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
