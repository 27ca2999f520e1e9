"""Packs versus Deep Zoom on the host: files, bytes and build time, ratios in one run.

    python bench/packs.py                                  # 16384^2 and 32768^2, 1/5/20 versions, gallery
    python bench/packs.py --sizes 16384 --gallery 200      # a quicker run

Needs the PMTiles plugin (``pip install ./plugins/dzbuild-pmtiles``). For each size, one image
folder with ``v0`` and 19 versions that each change one full-resolution tile (cached in ``OUT``)
is built twice into fresh folders, alternately: ``formats = ["dzi"]`` and ``["pmtiles"]``. The
host's files and bytes are counted as an upload counts them (every hard link a file) over the
first 1, 5 and 20 versions; the pack overhead is host bytes over the tile bytes the archives hold.
Times: the full build of v0 and the one-tile patch v1, each a median over ``--reps``. The gallery
is a site of 768x512 images, one version each, built both ways.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.images import BenchImage  # noqa: E402
from dzbuild.pyramid.build import BuildOptions, build_pyramid  # noqa: E402
from dzbuild.pyramid.spec import PyramidSpec  # noqa: E402
from dzbuild.pyramid.tiling import write_spec, write_tiles  # noqa: E402
from dzbuild.site.build import build_site  # noqa: E402
from dzbuild.site.hostlimits import measure  # noqa: E402
from dzbuild.testing import synthetic_image  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
VERSIONS = (1, 5, 20)
FORMATS = {"dzi": ("dzi",), "packs": ("pmtiles",)}


def history(image: BenchImage, root: Path, versions: int) -> Path:
    """``v0`` (hard links to the cached tiles) and ``versions - 1`` patches of one tile each, along a diagonal."""
    folder = root / f"{image.size}-history"
    if (folder / f"v{versions - 1}").is_dir():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    write_spec(folder, image.spec)
    shutil.copytree(image.dir / "v0", folder / "v0", copy_function=os.link)
    patch = next((image.patch_dir / "v1").iterdir()).read_bytes()  # a full-size interior tile
    cols, rows = image.grid.tile_counts(image.grid.max_level)
    for number in range(1, versions):
        (folder / f"v{number}").mkdir()
        col, row = (3 * number) % (cols - 1), (5 * number) % (rows - 1)
        (folder / f"v{number}" / f"{col}_{row}.jpg").write_bytes(patch)
    return folder


def host_count(dest: Path, fmt: str, versions: int) -> tuple[int, int]:
    """Files and bytes of the first ``versions`` version folders of ``fmt``, as an upload counts them."""
    files = size = 0
    for number in range(versions):
        for path in (dest / fmt / f"v{number}").rglob("*"):
            if path.is_file():
                files, size = files + 1, size + path.stat().st_size
    return files, size


def archive_tile_bytes(dest: Path, versions: int) -> int:
    """The tile bytes the archives of the first ``versions`` versions hold (from each PMTiles header)."""
    total = 0
    for number in range(versions):
        for path in (dest / "pmtiles" / f"v{number}").glob("*.pmtiles"):
            with open(path, "rb") as handle:
                total += int.from_bytes(handle.read(127)[64:72], "little")  # tile_data_length
    return total


def one_image(image: BenchImage, work: Path, reps: int, log) -> dict:
    """Build the history both ways; count the host after 1, 5 and 20 versions; time v0 and the patch."""
    source = history(image, work, max(VERSIONS))
    times = {name: {"full": [], "patch": []} for name in FORMATS}
    dests = {}
    for rep in range(reps):
        for name, formats in FORMATS.items():
            staged = work / "runs" / f"{image.size}-{name}-{rep}"
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir(parents=True)
            write_spec(staged, image.spec)  # then v0 alone, then v1, as a user publishes them
            shutil.copytree(source / "v0", staged / "v0", copy_function=os.link)
            started = time.perf_counter()
            build_pyramid(staged, options=BuildOptions(formats=formats))
            times[name]["full"].append(time.perf_counter() - started)
            shutil.copytree(source / "v1", staged / "v1", copy_function=os.link)
            started = time.perf_counter()
            build_pyramid(staged, options=BuildOptions(formats=formats))
            times[name]["patch"].append(time.perf_counter() - started)
            full, patch = times[name]["full"][-1], times[name]["patch"][-1]
            log(f"{image.size} {name} rep {rep}: full {full:.2f} s, patch {patch:.2f} s")
            dests[name] = staged
    counts = {}
    for name, staged in dests.items():  # the last repetition's folders get every version
        for number in range(2, max(VERSIONS)):
            shutil.copytree(source / f"v{number}", staged / f"v{number}", copy_function=os.link)
        build_pyramid(staged, options=BuildOptions(formats=FORMATS[name]))
    for versions in VERSIONS:
        dzi_files, dzi_bytes = host_count(dests["dzi"] / "dest", "dzi", versions)
        pack_files, pack_bytes = host_count(dests["packs"] / "dest", "pmtiles", versions)
        counts[versions] = {
            "dzi_files": dzi_files, "pack_files": pack_files, "dzi_bytes": dzi_bytes, "pack_bytes": pack_bytes,
            "pack_tile_bytes": archive_tile_bytes(dests["packs"] / "dest", versions),
            "largest_pack_file": max(p.stat().st_size for p in (dests["packs"] / "dest" / "pmtiles").rglob("*.*")),
        }
    packs = dests["packs"] / "dest"
    patch_files = [host_count(packs, "pmtiles", n + 1)[0] - host_count(packs, "pmtiles", n)[0] for n in range(1, 20)]
    median = {name: {op: statistics.median(values) for op, values in ops.items()} for name, ops in times.items()}
    return {"size": image.size, "counts": counts, "times": median, "patch_files_max": max(patch_files)}


def gallery(work: Path, count: int, log) -> dict:
    """A site of ``count`` 768x512 images, one version each, built with Deep Zoom and with packs."""
    sources = work / f"gallery-{count}"
    if not (sources / f"img{count - 1:04d}" / "v0").is_dir():
        shutil.rmtree(sources, ignore_errors=True)
        spec = PyramidSpec(768, 512, 256)
        for n in range(count):
            write_spec(sources / f"img{n:04d}", spec)
            write_tiles(sources / f"img{n:04d}" / "v0", synthetic_image(768, 512, seed=n), spec)
    result = {}
    for name, formats in FORMATS.items():
        site = work / "runs" / f"gallery-{name}"
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir(parents=True)
        for child in sources.iterdir():
            shutil.copytree(child, site / child.name, copy_function=os.link)
        viewer = formats[0]
        (site / "dzbuild.toml").write_text(f'formats = {json.dumps(list(formats))}\n[viewer]\nformat = "{viewer}"\n')
        started = time.perf_counter()
        build_site(site, progress="none")
        seconds = time.perf_counter() - started
        stats = measure(site / "_site")
        result[name] = {"files": stats.files, "bytes": stats.bytes, "seconds": seconds}
        log(f"gallery {name}: {stats.files:,} files, {stats.bytes / 1e6:.1f} MB, {seconds:.1f} s")
    return result


def render(images: list[dict], gallery_result: dict | None) -> str:
    lines = ["| size | versions | DZI files | pack files | files ratio | DZI MB | pack MB | pack bytes / tile bytes |"]
    lines += ["| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in images:
        for versions, c in result["counts"].items():
            lines.append(
                f"| {result['size']} | {versions} | {c['dzi_files']:,} | {c['pack_files']:,} |"
                f" {c['pack_files'] / c['dzi_files']:.3f} | {c['dzi_bytes'] / 1e6:.1f} | {c['pack_bytes'] / 1e6:.1f} |"
                f" {c['pack_bytes'] / c['pack_tile_bytes']:.4f} |"
            )
    lines += ["", "| size | DZI full s | packs full s | ratio | DZI patch s | packs patch s | ratio |"
              " most files a one-tile version adds |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in images:
        d, p = result["times"]["dzi"], result["times"]["packs"]
        lines.append(f"| {result['size']} | {d['full']:.2f} | {p['full']:.2f} | {p['full'] / d['full']:.2f} |"
                     f" {d['patch']:.2f} | {p['patch']:.2f} | {p['patch'] / d['patch']:.2f} |"
                     f" {result['patch_files_max']} |")
    if gallery_result:
        d, p = gallery_result["dzi"], gallery_result["packs"]
        lines += ["", "| gallery | files | MB | build s |", "| --- | --- | --- | --- |",
                  f"| DZI | {d['files']:,} | {d['bytes'] / 1e6:.1f} | {d['seconds']:.1f} |",
                  f"| packs | {p['files']:,} | {p['bytes'] / 1e6:.1f} | {p['seconds']:.1f} |",
                  f"| ratio | {p['files'] / d['files']:.3f} | {p['bytes'] / d['bytes']:.3f} |"
                  f" {p['seconds'] / d['seconds']:.2f} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[16384, 32768])
    parser.add_argument("--gallery", type=int, default=1000, help="images in the gallery site (0: none)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    work = args.out / "packs"
    work.mkdir(parents=True, exist_ok=True)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    results = []
    for size in args.sizes:
        image = BenchImage(args.out / "images", size)
        image.ensure(whole_jpeg=False, log=log)
        results.append(one_image(image, work, args.reps, log))
    gallery_result = gallery(work, args.gallery, log) if args.gallery else None
    (work / "packs.json").write_text(json.dumps({"images": results, "gallery": gallery_result}, indent=2))
    print(render(results, gallery_result))


if __name__ == "__main__":
    main()
