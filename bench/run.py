"""Benchmark dzbuild against libvips ``dzsave`` and the codec floor.

    pip install -e ".[bench]" && python bench/run.py                 # 16384^2, 5 repetitions
    python bench/run.py --sizes 16384,8192,32768                     # + memory and scaling targets

Test images are generated deterministically and cached in ``OUT/images``; every timed run writes
into a fresh folder under ``OUT/runs-*`` (removed afterwards unless ``--keep``). The report is
printed and saved as ``OUT/report-*.txt``. The first size is the one targets 1-3 and 6 use.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import measure, report  # noqa: E402
from bench.images import BenchImage  # noqa: E402
from bench.suite import cores, run_sizes  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark dzbuild against vips dzsave and the codec floor.")
    parser.add_argument("--sizes", default="16384", help="square sizes, comma-separated; the first is the main one")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every timed operation (default 5)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (cached images, runs, reports)")
    parser.add_argument("--no-vips", action="store_true", help="skip vips dzsave even if pyvips is installed")
    parser.add_argument("--no-quality", action="store_true", help="skip the PSNR pass")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (published pyramids) afterwards")
    parser.add_argument("--no-collection", action="store_true", help="skip target 7 (the 1,000-item collection)")
    parser.add_argument("--collection-items", type=int, default=1000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return args


def collections_target(args: argparse.Namespace, log=print) -> tuple[str | None, report.Verdict]:
    """Target 7 through ``bench/collection.py``; skipped cleanly without a collection builder."""
    if args.no_collection:
        return None, report.Verdict("7 collect", None, "skipped (--no-collection)")
    try:
        from bench.collection import run_collection_benchmark
    except ImportError as exc:  # no dzbuild.collection yet
        return None, report.Verdict("7 collect", None, f"no collection builder ({exc})")
    log(f"collection: {args.collection_items} items")
    timings = run_collection_benchmark(args.out, items=args.collection_items, log=log)
    return "== collection (target 7), one run\n" + "\n".join(timings.lines()), report.collection_verdict(timings)


def benchmark(args: argparse.Namespace, log=print) -> str:
    """Run every size and return the report text."""
    measure.compile_dzbuild()
    vips = not args.no_vips and measure.have_pyvips()
    if not args.no_vips and not vips:
        log("pyvips is not installed: vips dzsave is skipped (pip install -e '.[bench]')")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs_dir = args.out / f"runs-{stamp}"
    try:
        images = [BenchImage(args.out / "images", size) for size in args.sizes]
        results = run_sizes(images, runs_dir, args.reps, vips, not args.no_quality, log=log)
        collection = collections_target(args, log)
    finally:
        if not args.keep:
            shutil.rmtree(runs_dir, ignore_errors=True)
    return render(results, vips, collection)


def render(results, vips: bool, collection=None) -> str:
    collection = collection or (None, report.Verdict("7 collect", None, "not run"))  # a Verdict is mutable
    primary = results[0]
    parts = [f"dzbuild benchmark, {cores()} cores, vips {'on' if vips else 'off'}"]
    parts += [report.table(r) for r in results]
    if primary.psnr:
        parts.append(report.psnr_table(primary))
    text, verdict = collection
    if text:
        parts.append(text)
    lines = [v.line() for v in report.verdicts(results, primary, cores(), verdict)]
    parts.append("== targets\n" + "\n".join(lines))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    text = benchmark(args)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / f"report-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    saved.write_text(text + "\n")
    print(f"\n(saved to {saved})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
