"""Compute the tiles of one work unit: the code that runs inside a worker process.

Parents are always made from the *encoded* bytes of their children, exactly as they lie on
disk. That is what makes an incremental build byte-identical to a from-scratch one: an
unchanged sibling read back from an earlier version gives the same bytes as the same sibling
computed a moment ago in this build.
"""

from __future__ import annotations

import pickle
import uuid
import zlib
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError
from ..grid import Grid, Owners, Tile
from ..io import codec
from ..link import TileLinker, base_holder, subtree_tiles
from ..plugins import registry
from .planner import WorkUnit


def source_path(image_dir: str, tile: Tile, owner: int, ext: str) -> str:
    """A base tile's file: the source folder of the version that owns it is its physical file."""
    return f"{image_dir}/v{owner}/{tile.col}_{tile.row}.{ext}"


class SharedTable:
    """One of a version's tables that work units carry by reference: it pickles as a file's name.

    The owners table has a number per tile (263 KB pickled at 65536^2, about 61 MB at a
    terapixel) and the compute set a byte per tile; each unit used to carry both. They are now
    written once per version beside the folder being assembled, where every worker sees them
    (executors check that), and each worker process reads them once: a unit's size no longer
    grows with the image, whatever the executor.
    """

    def __init__(self, table, path: str, token: str, name: str) -> None:
        self.table, self.path, self.token, self.name = table, path, token, name

    def __getitem__(self, key):
        return self.table[key]

    def __contains__(self, item) -> bool:
        return item in self.table

    def __len__(self) -> int:
        return len(self.table)

    def __iter__(self):
        return iter(self.table)

    def __reduce__(self):
        return _shared_table, (self.path, self.token, self.name)


_read_tables: dict[str, dict] = {}  # token -> tables by name, in each worker process: the latest few


def _shared_table(path: str, token: str, name: str):
    """Unpickling in a worker: the table itself (no wrapper in the hot loops), its file read once
    per process and version."""
    if token not in _read_tables:
        with open(path, "rb") as handle:
            tables = pickle.load(handle)
        while len(_read_tables) >= 2:  # one version at a time: older tables are done with
            del _read_tables[next(iter(_read_tables))]
        _read_tables[token] = tables
    return _read_tables[token][name]


@contextmanager
def shared_tables(folder: Path, owners: Owners, compute):
    """``owners`` and ``compute`` as ``SharedTable``s whose file lies beside ``folder`` (a temporary
    version folder) while in use: ``{"owners": ..., "compute": ...}``.

    The file's name carries the folder's temporary mark, so a build killed meanwhile leaves
    nothing a later build keeps.
    """
    token = uuid.uuid4().hex
    path = folder.with_name(f"{folder.name}.tables-{token[:8]}")
    compact = {"owners": [array(_typecode(max(level, default=0)), level) for level in owners], "compute": compute}
    try:
        with open(path, "wb") as handle:
            pickle.dump(compact, handle, pickle.HIGHEST_PROTOCOL)
        yield {"owners": SharedTable(owners, str(path), token, "owners"),
               "compute": SharedTable(compute, str(path), token, "compute")}  # fmt: skip
    finally:
        path.unlink(missing_ok=True)  # a full disk may have left part of it


def _typecode(largest: int) -> str:
    """The smallest unsigned array type holding version numbers up to ``largest``."""
    return next(code for code in "BHIQ" if largest < 1 << (8 * array(code).itemsize))


@dataclass(frozen=True)
class TileFiles:
    """Where each tile of a version physically lives: a source file, or a computed file in its home format.

    Picklable and small (``owners``, a ``SharedTable``, pickles as the name of its file), so each
    worker finds its own files instead of the build sending it a path per tile.
    """

    grid: Grid
    ext: str
    home: object  # the format whose folders hold computed tiles (``name``, ``tile_path``)
    image_dir: str
    dest: str
    version: int
    current: str  # the home's folder being assembled for ``version``
    owners: Owners  # or a SharedTable of them

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
    links: bool = False  # also link the unchanged tiles below the unit's roots (then the build's process does not)


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
        result = _compute(writes, files, resampler, storage, job)
    if job.links:
        link_subtrees(job, storage)
    return result


def link_subtrees(job: UnitJob, storage) -> None:
    """Link every tile below the unit's roots that the version does not compute, as the build's
    process links the others: base tiles to their source files (or, across file systems, to the
    file an earlier version published), other tiles to the earlier version's file."""
    files, grid, compute = job.files, job.files.grid, job.unit.compute
    home, ext = files.home, files.ext
    linker = TileLinker(storage, home, grid, ext, files.current)
    published = base_holder(  # units link only without overlap: then the home is the format linked
        job.storage, False, files.image_dir, files.current,
        lambda owner: None if owner == files.version else Path(f"{files.dest}/{home.name}/v{owner}"),
    )  # fmt: skip
    for root in job.unit.roots:
        for level in range(root.level + 1, grid.max_level + 1):
            level_owners = files.owners[level]
            for index, tile in subtree_tiles(grid, root, level):
                if tile in compute:
                    continue
                holder = published(level_owners[index]) if published and level == grid.max_level else None
                linker.link(tile, f"{holder}/{home.tile_path(grid, tile, ext)}" if holder else files.path(tile))
    linker.flush()


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
