"""Compute the tiles of one work unit: the code that runs inside a worker process.

Parents are always made from the *encoded* bytes of their children, exactly as they lie on
disk. That is what makes an incremental build byte-identical to a from-scratch one: an
unchanged sibling read back from an earlier version gives the same bytes as the same sibling
computed a moment ago in this build.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass, field

from ..errors import SourceError
from ..grid import Grid, Owners, Tile
from ..io import codec
from ..plugins import registry
from .planner import WorkUnit


def source_path(image_dir: str, tile: Tile, owner: int, ext: str) -> str:
    """A base tile's file: the source folder of the version that owns it is its physical file."""
    return f"{image_dir}/v{owner}/{tile.col}_{tile.row}.{ext}"


@dataclass(frozen=True)
class TileFiles:
    """Where each tile of a version physically lives: a source file, or a computed file in its home format.

    Picklable and small (the owners table is one small int per tile), so each worker finds its
    own files instead of the build sending it a path per tile.
    """

    grid: Grid
    ext: str
    home: object  # the format whose folders hold computed tiles (``name``, ``tile_path``)
    image_dir: str
    dest: str
    version: int
    current: str  # the home's folder being assembled for ``version``
    owners: Owners

    def owner(self, tile: Tile) -> int:
        return self.owners[tile.level][self.grid.index(tile)]

    def path(self, tile: Tile) -> str:
        owner = self.owner(tile)
        if tile.level == self.grid.max_level:
            return source_path(self.image_dir, tile, owner, self.ext)
        folder = self.current if owner == self.version else f"{self.dest}/{self.home.name}/v{owner}"
        return f"{folder}/{self.home.tile_path(self.grid, tile, self.ext)}"

    def output(self, tile: Tile) -> str:
        """Where this version writes a tile it computes."""
        return f"{self.current}/{self.home.tile_path(self.grid, tile, self.ext)}"

    def is_new_source(self, tile: Tile) -> bool:
        """A source tile of this very version: its CRC-32 goes into the version's fingerprint."""
        return tile.level == self.grid.max_level and self.owner(tile) == self.version


@dataclass(frozen=True)
class UnitJob:
    """Everything a worker needs, as plain picklable data."""

    files: TileFiles
    quality: int
    resampler: str
    storage: str
    unit: WorkUnit


@dataclass
class UnitResult:
    computed: int = 0
    bytes_written: int = 0
    checksums: array = field(default_factory=lambda: array("q"))  # base index, CRC-32, index, CRC-32...


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def run_unit(job: UnitJob) -> UnitResult:
    """Compute every tile of the unit in post-order, keeping only unconsumed children in memory."""
    reg = registry()
    resampler = reg.get("resampler", job.resampler)
    storage = reg.get("storage", job.storage)
    files = job.files
    writes, _ = job.unit.walk()
    with codec.libjpeg_warnings_captured():
        return _compute(writes, files, resampler, storage, job)


def _compute(writes: list[Tile], files: TileFiles, resampler, storage, job: UnitJob) -> UnitResult:
    grid, ext = files.grid, files.ext
    pending: dict[Tile, bytes] = {}
    result = UnitResult()
    for tile in writes:
        children = {}
        for child in grid.children(tile):
            data = pending.pop(child, None)
            if data is None:
                data = read_tile(grid, child, files.path(child))
                if files.is_new_source(child):
                    result.checksums.extend((grid.index(child), zlib.crc32(data)))
            children[(child.col - 2 * tile.col, child.row - 2 * tile.row)] = data
        try:
            pixels = resampler.parent(children, grid.tile_size_of(tile), grid.tile_size)
        except SourceError as exc:
            raise _blame(job, grid.children(tile), exc) from None
        data = codec.encode(pixels, ext, job.quality)
        storage.write(files.output(tile), data)
        pending[tile] = data
        result.computed += 1
        result.bytes_written += len(data)
    return result


def _blame(job: UnitJob, children: list[Tile], error: SourceError) -> SourceError:
    """Name the one child file that fails to decode on its own (the resampler never sees paths)."""
    paths = [job.files.path(child) for child in children]
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
