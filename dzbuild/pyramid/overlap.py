"""Deep Zoom tiles with overlap borders, cut from the core (overlap-free) pyramid.

With ``overlap >= 1`` the core pyramid is built exactly as without overlap (its computed tiles
are kept under ``dest/core/``) and each published tile is the core tile plus ``overlap`` pixels
of its neighbours, re-encoded. A published tile is therefore a pure function of the 3x3 core
tiles around it, which keeps incremental builds byte-identical to from-scratch ones.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..grid import Grid, Tile
from ..io import codec
from ..link import Placement, link_all
from ..plugins import registry
from .compute import UnitResult, read_tile
from .target import CORE_FOLDER

ROWS_PER_UNIT = 16  # a band of rows per work unit: halo rows are decoded twice, 1 in 8 extra


@dataclass(frozen=True)
class OverlapJob:
    grid: Grid
    overlap: int
    fmt: str
    quality: int
    storage: str
    writes: tuple[tuple[Tile, str], ...]  # row-major within each level, with output paths
    reads: dict  # core Tile -> path of its physical file, for every tile in the neighbourhoods


def split_overlap(grid: Grid, compute: frozenset[Tile], jobs: int) -> list[list[Tile]]:
    """Bands of rows per level, row-major inside: each core tile is decoded about once."""
    bands: dict[tuple[int, int], list[Tile]] = {}
    rows_per_unit = ROWS_PER_UNIT if jobs > 1 else 1 << 30
    for tile in sorted(compute, key=lambda t: (t.level, t.row, t.col)):
        bands.setdefault((tile.level, tile.row // rows_per_unit), []).append(tile)
    return list(bands.values())


def neighbourhood_reads(grid: Grid, tiles: list[Tile]) -> set[Tile]:
    return {n for tile in tiles for n in grid.neighbourhood(tile)}


def run_overlap_unit(job: OverlapJob) -> UnitResult:
    """Assemble, encode and write each tile of ``job.writes``, keeping a few rows decoded."""
    storage = registry().get("storage", job.storage)
    grid, result = job.grid, UnitResult()
    widest = max((grid.tile_counts(t.level).width for t, _ in job.writes), default=1)
    cache: OrderedDict[Tile, object] = OrderedDict()
    for tile, out_path in job.writes:
        x, y, w, h = grid.overlap_bounds(tile, job.overlap)
        pixels = codec.np().empty((h, w, 3), dtype="uint8")
        for near in grid.neighbourhood(tile):
            nx, ny, nw, nh = grid.tile_bounds(near)
            left, top = max(x, nx), max(y, ny)
            right, bottom = min(x + w, nx + nw), min(y + h, ny + nh)
            if left < right and top < bottom:
                core = _decoded(job, near, cache, 3 * widest + 3)
                window = core[top - ny : bottom - ny, left - nx : right - nx]
                pixels[top - y : bottom - y, left - x : right - x] = window
        data = codec.encode(pixels, job.fmt, job.quality)
        storage.write(out_path, data)
        result.computed += 1
        result.bytes_written += len(data)
    return result


def _decoded(job: OverlapJob, tile: Tile, cache: OrderedDict, capacity: int):
    pixels = cache.get(tile)
    if pixels is not None:
        cache.move_to_end(tile)
        return pixels
    path = job.reads[tile]
    pixels = cache[tile] = codec.decode(read_tile(job.grid, tile, path), path)
    if len(cache) > capacity:
        cache.popitem(last=False)
    return pixels


def assemble_overlap(target, plan, fmt, tmp, core_tmp, executor) -> None:
    """Cut the changed overlap tiles in workers while this process links the unchanged ones."""
    grid, spec = target.grid, target.spec
    core = target.files(plan.version, plan.owners, CORE_FOLDER, core_tmp)
    jobs = [
        OverlapJob(
            grid,
            spec.overlap,
            spec.format,
            spec.quality,
            target.storage,
            tuple((t, f"{tmp}/{fmt.tile_path(grid, t, spec.format)}") for t in unit),
            {n: core.path(n) for n in neighbourhood_reads(grid, unit)},
        )
        for unit in split_overlap(grid, plan.overlap.compute, executor.jobs)
    ]
    batch = executor.start(run_overlap_unit, jobs)
    try:
        owners, computed = plan.overlap.owners, plan.overlap.compute
        link_all(target, fmt, tmp, Placement(owners, fmt, {plan.version: str(tmp)}, computed, sources=False))
    except BaseException:
        batch.cancel()
        raise
    batch.results()
