"""Execute one version's plan: assemble it under a temporary name, then rename it into place."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .compute import UnitJob, run_unit
from .executor import Executor
from .grid import Grid, Tile
from .hookspecs import VersionContext
from .planner import VersionPlan, WorkUnit, split_work
from .spec import PyramidSpec
from .state import PARTIAL_MARK, State, remove_path


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

    def version_dir(self, fmt, version: int) -> Path:
        return self.dest / fmt.name / f"v{version}"

    def source_path(self, tile: Tile, owner: int) -> str:
        return f"{self.image_dir}/v{owner}/{tile.col}_{tile.row}.{self.spec.format}"


def publish_version(target: Target, plan: VersionPlan, record: dict, state: State, executor: Executor) -> VersionReport:
    """Build every format of ``plan.version`` and publish it; on any error nothing becomes visible."""
    started = time.perf_counter()
    primary, *others = target.formats
    temps: list[Path] = []
    linked = target.grid.total_tiles - len(plan.compute)
    try:
        tmp = _temp_dir(target, primary, plan.version, temps)
        _assemble_primary(target, plan, primary, tmp, executor)
        state.prepare(plan.version, {**record, "computed": len(plan.compute), "linked": linked}, plan.owners)
        os.rename(tmp, target.version_dir(primary, plan.version))
        # Other formats link into the primary's final folder, so relative symlinks stay valid.
        for fmt in others:
            other_tmp = _temp_dir(target, fmt, plan.version, temps)
            _link_all(target, plan, fmt, other_tmp, primary, computed_in=target.version_dir(primary, plan.version))
            _write_descriptors(target, fmt, other_tmp, plan.version)
            os.rename(other_tmp, target.version_dir(fmt, plan.version))
        state.commit(plan.version)
    except BaseException:
        for path in temps:
            if path.exists():
                remove_path(path)
        if not target.version_dir(primary, plan.version).exists():
            state.pending_path(plan.version).unlink(missing_ok=True)
        raise
    return VersionReport(plan.version, len(plan.compute), linked, time.perf_counter() - started)


def _temp_dir(target: Target, fmt, version: int, temps: list[Path]) -> Path:
    path = target.dest / fmt.name / f".v{version}{PARTIAL_MARK}{os.getpid()}"
    temps.append(path)
    path.mkdir(parents=True)
    for rel in fmt.dirs(target.grid):
        (path / rel).mkdir(parents=True, exist_ok=True)
    return path


def _assemble_primary(target: Target, plan: VersionPlan, fmt, tmp: Path, executor: Executor) -> None:
    """Compute the changed ancestors in workers while this process links everything else."""
    units, top = split_work(target.grid, plan.compute, executor.jobs)
    batch = executor.start(run_unit, [_job(target, plan, fmt, tmp, u) for u in units])
    _link_all(target, plan, fmt, tmp, fmt, computed_in=None)
    batch.results()
    if top is not None:
        executor.run(run_unit, [_job(target, plan, fmt, tmp, top)])
    _write_descriptors(target, fmt, tmp, plan.version)


def _job(target: Target, plan: VersionPlan, fmt, tmp: Path, unit: WorkUnit) -> UnitJob:
    ext = target.spec.format
    writes = tuple((t, f"{tmp}/{fmt.tile_path(target.grid, t, ext)}") for t in unit.writes)
    reads = {t: _physical(target, plan, fmt, tmp, t) for t in unit.reads}
    return UnitJob(target.grid, ext, target.spec.quality, target.resampler, target.storage, writes, reads)


def _physical(target: Target, plan: VersionPlan, primary, current_dir: Path, tile: Tile) -> str:
    """The one file that holds ``tile`` for this version: a source tile or a computed tile."""
    owner = plan.owner(target.grid, tile)
    if tile.level == target.grid.max_level:
        return target.source_path(tile, owner)
    base = current_dir if owner == plan.version else target.version_dir(primary, owner)
    return f"{base}/{primary.tile_path(target.grid, tile, target.spec.format)}"


def _link_all(target: Target, plan: VersionPlan, fmt, tmp: Path, primary, computed_in: Path | None) -> None:
    """Link every tile of ``fmt`` in ``tmp`` to its physical file.

    For the primary format the tiles this version computes are written, not linked, so they are
    skipped (``computed_in`` is None); other formats link those too, into the primary's folder.
    This loop runs once per tile of every version: it is kept to plain lookups and one syscall.
    """
    from .plugins import registry

    link = registry().get("storage", target.storage).link
    grid, ext, compute = target.grid, target.spec.format, plan.compute
    skip_computed = computed_in is None
    folders = {plan.version: str(tmp if skip_computed else computed_in)}
    for level in grid.levels:
        owners = plan.owners[level]
        is_base = level == grid.max_level
        for index, tile in enumerate(grid.tiles(level)):  # row-major, like the owners table
            if skip_computed and tile in compute:
                continue
            owner = owners[index]
            if is_base:
                physical = f"{target.image_dir}/v{owner}/{tile.col}_{tile.row}.{ext}"
            else:
                folder = folders.get(owner) or folders.setdefault(owner, str(target.version_dir(primary, owner)))
                physical = f"{folder}/{primary.tile_path(grid, tile, ext)}"
            rel = fmt.tile_path(grid, tile, ext)
            if rel is not None:
                link(physical, f"{tmp}/{rel}")


def _write_descriptors(target: Target, fmt, folder: Path, version: int) -> None:
    url = f"{target.base_url.rstrip('/')}/{fmt.name}/v{version}" if target.base_url else None
    for rel, data in fmt.descriptors(target.spec, target.grid, VersionContext(version, url)).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
