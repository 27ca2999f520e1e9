"""Compute the tiles of one work unit: the code that runs inside a worker process.

Parents are always made from the *encoded* bytes of their children, exactly as they lie on
disk. That is what makes an incremental build byte-identical to a from-scratch one: an
unchanged sibling read back from an earlier version gives the same bytes as the same sibling
computed a moment ago in this build.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from . import codec
from .errors import SourceError
from .grid import Grid, Tile


@dataclass(frozen=True)
class UnitJob:
    """Everything a worker needs, as plain picklable data."""

    grid: Grid
    fmt: str
    quality: int
    resampler: str
    storage: str
    writes: tuple[tuple[Tile, str], ...]  # post-order: children before parents, with output paths
    reads: dict  # Tile -> path of the physical file that holds it
    checksum: frozenset = frozenset()  # source tiles new in this version: their CRC-32 goes in the record


@dataclass
class UnitResult:
    computed: int = 0
    bytes_written: int = 0
    checksums: dict = field(default_factory=dict)  # Tile -> CRC-32 of the source tile's bytes


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def run_unit(job: UnitJob) -> UnitResult:
    """Compute every tile of ``job.writes`` in order, keeping only unconsumed children in memory."""
    from .plugins import registry

    reg = registry()
    resampler = reg.get("resampler", job.resampler)
    storage = reg.get("storage", job.storage)
    grid = job.grid
    pending: dict[Tile, bytes] = {}
    result = UnitResult()
    for tile, out_path in job.writes:
        children = {}
        for child in grid.children(tile):
            data = pending.pop(child, None)
            if data is None:
                data = read_tile(grid, child, job.reads[child])
                if child in job.checksum:
                    result.checksums[child] = zlib.crc32(data)
            children[(child.col - 2 * tile.col, child.row - 2 * tile.row)] = data
        try:
            pixels = resampler.parent(children, grid.tile_size_of(tile), grid.tile_size)
        except SourceError as exc:
            raise _blame(job, grid.children(tile), exc) from None
        data = codec.encode(pixels, job.fmt, job.quality)
        storage.write(out_path, data)
        pending[tile] = data
        result.computed += 1
        result.bytes_written += len(data)
    return result


def _blame(job: UnitJob, children: list[Tile], error: SourceError) -> SourceError:
    """Name the one child file that fails to decode on its own (the resampler never sees paths)."""
    paths = [job.reads[child] for child in children if child in job.reads]
    for path in paths:
        try:
            codec.decode(read_file(path), path)
        except SourceError as exc:
            return exc
    return SourceError(error.message, ", ".join(paths) or None)


def read_tile(grid: Grid, tile: Tile, path: str) -> bytes:
    """The bytes of a tile's physical file, checked when it is a source tile.

    Source tiles are the only input a person wrote by hand; computed tiles are dzbuild's own.
    """
    data = read_file(path)
    if tile.level == grid.max_level:
        codec.check_tile(data, path, grid.tile_size_of(tile))
    return data
