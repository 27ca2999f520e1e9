"""Execute one version's plan: assemble it under a temporary name, then rename it into place."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .compute import TileFiles, UnitJob, run_unit, source_path
from ..errors import BuildError
from ..run.forkpool import Executor
from ..grid import Grid, Tile
from ..hookspecs import VersionContext
from .planner import VersionPlan, WorkUnit, split_work
from .sources import TileFingerprint
from .spec import PyramidSpec
from .state import PARTIAL_MARK, State, encode_owners, remove_path, retract


@dataclass
class VersionReport:
    version: int
    computed: int
    linked: int
    seconds: float


@dataclass
class Target:
    """Where one image is built from and to, and with which plugins."""

    image_dir: Path
    dest: Path
    spec: PyramidSpec
    grid: Grid
    resampler: str
    storage: str
    formats: tuple  # format objects; the first holds the physical computed tiles
    base_url: str | None = None  # public URL of ``dest`` when the site declares one

    @property
    def store(self):
        """Where computed core tiles physically live: the first format, or ``core/`` with overlap."""
        if self.spec.overlap == 0:
            return self.formats[0]
        from .overlap import CORE_STORE

        return CORE_STORE

    def version_dir(self, fmt, version: int) -> Path:
        return self.dest / fmt.name / f"v{version}"

    def source_path(self, tile: Tile, owner: int) -> str:
        return source_path(str(self.image_dir), tile, owner, self.spec.format)


def publish_version(
    target: Target, plan: VersionPlan, record: dict, sources: TileFingerprint, state: State, executor: Executor
) -> VersionReport:
    """Build every format of ``plan.version`` and publish it; on any error nothing becomes visible.

    ``sources`` is the fingerprint of the version's source folder; the CRC-32 of every tile the
    workers read is added to it before it is written beside the record.
    """
    started = time.perf_counter()
    primary, *others = target.formats
    store = target.store
    temps: list[Path] = []
    computed = len(plan.compute) + (len(plan.overlap.compute) if plan.overlap else 0)
    linked = target.grid.total_tiles - (len(plan.overlap.compute) if plan.overlap else len(plan.compute))
    try:
        if store is primary:
            tmp = _temp_dir(target, primary, plan.version, temps)
            checksums = _assemble_primary(target, plan, primary, tmp, executor)
        else:  # overlap: the core tiles first, then the published tiles cut from them
            from .overlap import assemble_overlap

            core_tmp = _temp_dir(target, store, plan.version, temps)
            checksums = _compute_core(target, plan, store, core_tmp, executor)
            tmp = _temp_dir(target, primary, plan.version, temps)
            assemble_overlap(target, plan, primary, tmp, core_tmp, executor)
            _write_descriptors(target, primary, tmp, plan.version)
        record = {**record, "computed": computed, "linked": linked}
        sources.set_crcs(checksums)
        if plan.overlap:
            record["overlap_owners"] = encode_owners(plan.overlap.owners)
        state.prepare(plan.version, record, plan.owners, sources)
        if store is not primary:
            os.rename(core_tmp, target.version_dir(store, plan.version))
        os.rename(tmp, target.version_dir(primary, plan.version))
        # Other formats link into the store's final folder, so relative symlinks stay valid.
        store_dir = target.version_dir(store, plan.version)
        for fmt in others:
            other_tmp = _temp_dir(target, fmt, plan.version, temps)
            link_all(target, fmt, other_tmp, plan.owners, frozenset(), store, {plan.version: str(store_dir)})
            _write_descriptors(target, fmt, other_tmp, plan.version)
            os.rename(other_tmp, target.version_dir(fmt, plan.version))
        state.commit(plan.version)
    except BaseException as exc:
        _abandon(target, plan.version, temps, state)
        if isinstance(exc, OSError):  # disk full, permissions: the user's problem, said in one line
            where = f" ({exc.filename})" if exc.filename else ""
            raise BuildError(
                f"could not build v{plan.version}: {exc.strerror or exc}{where}; nothing of v{plan.version}"
                " was published and earlier versions are intact",
                target.dest,
            ) from exc
        raise
    return VersionReport(plan.version, computed, linked, time.perf_counter() - started)


def _abandon(target: Target, version: int, temps: list[Path], state: State) -> None:
    """Undo an unpublished version: its temporary folders, any folder already renamed, its pending record.

    Best effort: what cannot be removed now is removed by ``State.recover`` on the next run.
    """
    try:
        for path in temps:
            remove_path(path)
        retract([target.version_dir(fmt, version) for fmt in (*target.formats, target.store)])
        state.pending_path(version).unlink(missing_ok=True)
        for fmt in target.formats:
            (target.dest / fmt.name).rmdir()  # only if empty: a failed v0 leaves no folder behind
    except OSError:
        pass


def publish_format(target: Target, fmt, version: int, owners) -> None:
    """Add one link-only format to an already published version, atomically."""
    temps: list[Path] = []
    try:
        tmp = _temp_dir(target, fmt, version, temps)
        link_all(target, fmt, tmp, owners, frozenset(), target.store, {})
        _write_descriptors(target, fmt, tmp, version)
        os.rename(tmp, target.version_dir(fmt, version))
    except BaseException:
        for path in temps:
            remove_path(path)
        raise


def _temp_dir(target: Target, fmt, version: int, temps: list[Path]) -> Path:
    path = target.dest / fmt.name / f".v{version}{PARTIAL_MARK}{os.getpid()}"
    temps.append(path)
    path.mkdir(parents=True)
    for rel in fmt.dirs(target.grid):
        (path / rel).mkdir(parents=True, exist_ok=True)
    return path


def _assemble_primary(target: Target, plan: VersionPlan, fmt, tmp: Path, executor: Executor):
    """Compute the changed ancestors in workers while this process links everything else."""
    link = lambda: link_all(target, fmt, tmp, plan.owners, plan.compute, fmt, {plan.version: str(tmp)})  # noqa: E731
    checksums = _compute_core(target, plan, fmt, tmp, executor, meanwhile=link)
    _write_descriptors(target, fmt, tmp, plan.version)
    return checksums


def _compute_core(target: Target, plan: VersionPlan, store, tmp: Path, executor: Executor, meanwhile=None):
    """Compute ``plan.compute`` into ``tmp``: independent subtrees in parallel, then the top.

    Returns the CRC-32 of every new source tile the workers read (each is read exactly once),
    as a flat ``index, crc...`` array. With them in the version's fingerprint, a tile whose
    modification time changed but whose bytes did not (a fresh clone, a restored cache) is
    recognised as unchanged instead of refused as edited.
    """
    from array import array

    units, top = split_work(target.grid, plan.compute, executor.jobs)
    files = _files(target, plan, store, tmp)
    batch = executor.start(run_unit, [_job(target, files, u) for u in units])
    try:
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        batch.cancel()  # no worker may still write into ``tmp`` while it is removed
        raise
    checksums = array("q")
    for result in batch.results():
        checksums.extend(result.checksums)
    if top is not None:
        checksums.extend(executor.run(run_unit, [_job(target, files, top)])[0].checksums)
    return checksums


def _files(target: Target, plan: VersionPlan, store, current_dir: Path) -> TileFiles:
    """Where each tile of ``plan.version`` physically lives, with ``store`` holding computed tiles."""
    return TileFiles(
        target.grid, target.spec.format, store, str(target.image_dir), str(target.dest), plan.version,
        str(current_dir), plan.owners,
    )


def _job(target: Target, files: TileFiles, unit: WorkUnit) -> UnitJob:
    return UnitJob(files, target.spec.quality, target.resampler, target.storage, unit)


def link_all(target: Target, fmt, tmp: Path, owners, skip: frozenset, store, folders: dict, sources=True) -> None:
    """Link every tile of ``fmt`` in ``tmp``, except ``skip``, to the file of its owner version.

    The physical file of a tile owned by version ``k`` is in ``store``'s folder of ``k`` (or in
    ``folders[k]`` when given: the folder being assembled), and at the base level the source tile
    itself when ``sources`` is true. This loop runs once per tile of every version: it is kept
    to plain lookups and one syscall.
    """
    from ..plugins import registry

    batch = LinkBatch(registry().get("storage", target.storage))
    grid, ext = target.grid, target.spec.format
    folders = dict(folders)
    for level in grid.levels:
        level_owners = owners[level]
        from_sources = sources and level == grid.max_level
        for index, tile in enumerate(grid.tiles(level)):  # row-major, like the owners table
            if tile in skip:
                continue
            owner = level_owners[index]
            if from_sources:
                physical = target.source_path(tile, owner)
            else:
                folder = folders.get(owner) or folders.setdefault(owner, str(target.version_dir(store, owner)))
                physical = f"{folder}/{store.tile_path(grid, tile, ext)}"
            rel = fmt.tile_path(grid, tile, ext)
            if rel is not None:
                batch.link(physical, f"{tmp}/{rel}")
    batch.flush()


class LinkBatch:
    """A storage's links, gathered by (target folder, output folder) for its ``link_into`` when it has one.

    Links that keep their file name (most of every version) go out in groups; the others, and
    every link of a storage without ``link_into``, go to ``link`` at once. Call ``flush`` at the end.
    """

    LIMIT = 512  # names held per folder pair before they are linked: memory stays flat

    def __init__(self, storage) -> None:
        self.storage = storage
        self.link_into = getattr(storage, "link_into", None)
        self.groups: dict[tuple[str, str], list[str]] = {}

    def link(self, target: str, path: str) -> None:
        if self.link_into is None:
            return self.storage.link(target, path)
        target_dir, name = target.rsplit("/", 1)
        dest_dir, dest_name = path.rsplit("/", 1)
        if name != dest_name:
            return self.storage.link(target, path)
        names = self.groups.setdefault((target_dir, dest_dir), [])
        names.append(name)
        if len(names) >= self.LIMIT:
            self.link_into(target_dir, dest_dir, names)
            del self.groups[(target_dir, dest_dir)]

    def flush(self) -> None:
        for (target_dir, dest_dir), names in self.groups.items():
            self.link_into(target_dir, dest_dir, names)
        self.groups.clear()


def _write_descriptors(target: Target, fmt, folder: Path, version: int) -> None:
    url = f"{target.base_url.rstrip('/')}/{fmt.name}/v{version}" if target.base_url else None
    for rel, data in fmt.descriptors(target.spec, target.grid, VersionContext(version, url)).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
