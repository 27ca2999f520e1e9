"""The measurements of one image size: every operation, alternately, each into a fresh folder.

Never delete-and-rebuild in place between timed runs: some disks charge for re-creating a file
where one was just deleted. Every run writes into a new folder under ``runs/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import measure
from .floor import Floor, codec_floor
from .images import QUALITY, TILE_SIZE, BenchImage
from .quality import dzi_tiles, level_psnr, vips_tiles

# Timed operations, in the order each repetition runs them (dzbuild and vips alternate).
OPERATIONS = ("full", "vips", "version", "cp_al", "noop", "patch", "jobs1")


@dataclass
class SizeResult:
    size: int
    total_tiles: int
    upper_tiles: int
    patch_ancestors: int
    runs: dict = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    patch_computed: list = field(default_factory=list)
    floor: Floor | None = None
    psnr: dict | None = None  # pyramid name -> PSNR per level, level 0 first
    load: list = field(default_factory=list)  # load averages before and after
    create_ms: list = field(default_factory=list)  # measure.create_cost before each repetition
    failures: list = field(default_factory=list)  # repetitions that failed, with the error


def run_sizes(images: list[BenchImage], runs_dir: Path, reps: int, vips: bool, quality: bool, log=print) -> list:
    """Time every operation at every size ``reps`` times; sizes alternate too, so load hits all alike.

    The first image also gets the PSNR pass when ``quality`` is set.
    """
    for image in images:
        image.ensure(whole_jpeg=vips, log=log)
    results = [_start(image, runs_dir) for image in images]
    for rep in range(reps):
        for image, result in zip(images, results, strict=True):
            log(f"  {image.size}: repetition {rep + 1}/{reps}")
            _repetition(image, runs_dir / str(image.size), rep, vips, result, log)
    for index, (image, result) in enumerate(zip(images, results, strict=True)):
        if not result.runs["full"]:
            raise RuntimeError(f"every repetition at {image.size} failed: {result.failures}")
        log(f"  {image.size}: codec floor")
        result.floor = codec_floor(image.dir / "v0", image.grid, QUALITY)
        if quality and index == 0:
            log(f"  {image.size}: PSNR per level (area build + comparisons)")
            result.psnr = _quality(image, runs_dir / str(image.size), vips)
        result.load.append(measure.load_average())
    return results


def _start(image: BenchImage, runs_dir: Path) -> SizeResult:
    grid = image.grid
    upper = grid.total_tiles - grid.tile_count(grid.max_level)
    result = SizeResult(image.size, grid.total_tiles, upper, len(list(grid.ancestors(image.patch_tile))))
    result.load.append(measure.load_average())
    (runs_dir / str(image.size)).mkdir(parents=True)
    return result


def _repetition(image: BenchImage, folder: Path, rep: int, vips: bool, result: SizeResult, log) -> None:
    try:
        _one_repetition(image, folder, rep, vips, result)
    except RuntimeError as exc:  # one bad run (say, a tree edited mid-run) must not lose the others
        log(f"  {image.size}: repetition {rep + 1} failed: {exc}")
        result.failures.append(f"repetition {rep + 1}: {str(exc).splitlines()[-1]}")


def _one_repetition(image: BenchImage, folder: Path, rep: int, vips: bool, result: SizeResult) -> None:
    image.warm_up()  # this machine pages out files idle for a minute: start every repetition warm
    result.create_ms.append(measure.create_cost(folder / f"probe-{rep}"))
    full = folder / f"full-{rep}"
    runs = result.runs
    runs["full"].append(_build(image.dir, full, result.upper_tiles))
    if vips:
        runs["vips"].append(measure.vips_dzsave(image.jpeg, folder / f"vips-{rep}" / "image", TILE_SIZE, QUALITY))
    runs["version"].append(measure.dzbuild(["--version"]))
    runs["cp_al"].append(measure.cp_al(full / "dzi" / "v0", folder / f"cpal-{rep}"))
    runs["noop"].append(_build(image.dir, full, 0, rss=False))
    patched = folder / f"patch-{rep}"
    measure.cp_al(full, patched)  # a fresh copy of the published dest: every repetition patches v0
    source = _image_with_patch(image, folder / f"image-{rep}", patched)
    runs["patch"].append(_build(source, patched, None, rss=False))
    result.patch_computed.append(json.loads(runs["patch"][-1].stdout)["tiles_computed"])
    runs["jobs1"].append(_build(image.dir, folder / f"jobs1-{rep}", result.upper_tiles, "--jobs", "1"))


def _image_with_patch(image: BenchImage, copy: Path, dest: Path) -> Path:
    """The image folder as its author has it when a patch comes: v0 published and checked by an
    earlier run (untimed here), then a new v1/ with one changed tile.

    ``cp -al`` keeps v0/'s modification time, so the check seals it as it would the author's folder.
    """
    measure.cp_al(image.dir, copy)
    _build(copy, dest, 0, rss=False)
    (copy / "v1").mkdir()
    for tile in (image.patch_dir / "v1").iterdir():
        os.link(tile, copy / "v1" / tile.name)
    return copy


def _build(image_dir: Path, dest: Path, expect: int | None, *extra: str, rss: bool = True) -> measure.Run:
    """``dzbuild pyramid`` as a user runs it; check it computed what it should."""
    args = ["pyramid", str(image_dir), "--dest", str(dest), "--json", *extra]
    run = measure.dzbuild_with_rss(args) if rss else measure.dzbuild(args)
    computed = json.loads(run.stdout)["tiles_computed"]
    if expect is not None and computed != expect:
        raise RuntimeError(f"dzbuild {' '.join(args)} computed {computed} tiles, expected {expect}")
    return run


def _quality(image: BenchImage, folder: Path, vips: bool) -> dict:
    """PSNR per level of dzbuild (both resamplers) and of vips, against the exact float pyramid."""
    area = folder / "area"
    _build(image.dir, area, None, "--resampler", "area")
    dct = folder / "dct"
    _build(image.dir, dct, None, "--resampler", "dct")
    pyramids = {"dzbuild dct": dzi_tiles(dct / "dzi" / "v0"), "dzbuild area": dzi_tiles(area / "dzi" / "v0")}
    if vips:
        outputs = sorted(folder.glob("vips-*/image_files"))
        if not outputs:  # every timed vips run failed: make one for the comparison
            measure.vips_dzsave(image.jpeg, folder / "vips-q" / "image", TILE_SIZE, QUALITY)
            outputs = [folder / "vips-q" / "image_files"]
        pyramids["vips dzsave"] = vips_tiles(outputs[0])
    return level_psnr(image.picture(), image.grid, pyramids)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
