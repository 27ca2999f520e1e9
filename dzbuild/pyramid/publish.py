"""Execute one version's plan: assemble it under a temporary name, then rename it into place."""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

from ..api import ChecksPaths, Executor
from ..errors import BuildError
from ..hookspecs import VersionContext
from ..link import Placement, link_all
from ..plugins import capability, registry
from .compute import TileFiles, UnitJob, run_unit, shared_tables
from .overlap import assemble_overlap
from .planner import VersionPlan, WorkUnit, split_work
from .sources import TileFingerprint
from .state import Publication, State, encode_owners
from .target import Target


@dataclass
class VersionReport:
    version: int
    computed: int
    linked: int
    seconds: float


def publish_version(
    target: Target, plan: VersionPlan, record: dict, sources: TileFingerprint, state: State, executor: Executor
) -> VersionReport:
    """Build every format of ``plan.version`` and publish it; on any error nothing becomes visible.

    ``sources`` is the fingerprint of the version's source folder; the CRC-32 of every tile the
    workers read is added to it before it is written beside the record.
    """
    started = time.perf_counter()
    primary, *others = target.formats
    home = target.home
    computed, linked = plan.computed_count(), plan.linked_count(target.grid)
    try:
        with Publication(state, plan.version) as publication:
            if home is primary:
                tmp = _temp_dir(publication, target, primary)
                checksums = _assemble_primary(target, plan, primary, tmp, executor)
            else:  # overlap: the core tiles first, then the published tiles cut from them
                core_tmp = _temp_dir(publication, target, home)
                checksums = _compute_core(target, plan, home, core_tmp, executor)
                tmp = _temp_dir(publication, target, primary)
                assemble_overlap(target, plan, primary, tmp, core_tmp, executor)
                _write_descriptors(target, primary, tmp, plan.version)
            record = {**record, "computed": computed, "linked": linked}
            sources.set_crcs(checksums)
            if plan.overlap:
                record["overlap_owners"] = encode_owners(plan.overlap.owners)
            publication.prepare(record, plan.owners, sources)
            home_dir = publication.place(core_tmp) if home is not primary else None
            primary_dir = publication.place(tmp)
            # Other formats link into the home's final folder, so relative symlinks stay valid.
            placement = Placement(plan.owners, home, {plan.version: str(home_dir or primary_dir)})
            for fmt in others:
                other_tmp = _temp_dir(publication, target, fmt)
                link_all(target, fmt, other_tmp, placement)
                _write_descriptors(target, fmt, other_tmp, plan.version)
                publication.place(other_tmp)
            publication.commit()
    except OSError as exc:  # disk full, permissions: the user's problem, said in one line
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildError(
            f"could not build v{plan.version}: {exc.strerror or exc}{where}; nothing of v{plan.version}"
            " was published and earlier versions are intact",
            target.dest,
        ) from exc
    return VersionReport(plan.version, computed, linked, time.perf_counter() - started)


def publish_format(target: Target, fmt, version: int, owners, state: State) -> None:
    """Add one link-only format to an already published version, atomically."""
    with Publication(state, version) as publication:
        tmp = _temp_dir(publication, target, fmt)
        link_all(target, fmt, tmp, Placement(owners, target.home, {}))
        _write_descriptors(target, fmt, tmp, version)
        publication.place(tmp)


def _temp_dir(publication: Publication, target: Target, fmt) -> Path:
    return publication.folder(target.version_dir(fmt, publication.version), fmt.dirs(target.grid))


def _assemble_primary(target: Target, plan: VersionPlan, fmt, tmp: Path, executor: Executor):
    """Compute the changed ancestors in workers while this process links what no work unit links.

    Workers on other machines (an executor that checks paths) link the unchanged tiles below
    their units' roots: this process may be far from the files, one round trip per link. Local
    workers leave the links to this process, which makes them on a core of its own meanwhile.
    """
    remote = capability(executor, ChecksPaths) is not None

    def link(owned: frozenset) -> None:
        owned = owned if remote else frozenset()
        link_all(target, fmt, tmp, Placement(plan.owners, fmt, {plan.version: str(tmp)}, plan.compute, owned=owned))

    checksums = _compute_core(target, plan, fmt, tmp, executor, meanwhile=link, links=remote)
    _write_descriptors(target, fmt, tmp, plan.version)
    return checksums


def _compute_core(
    target: Target, plan: VersionPlan, home, tmp: Path, executor: Executor, meanwhile=None, links: bool = False
):
    """Compute ``plan.compute`` into ``tmp``: independent subtrees in parallel, then the top.

    ``meanwhile(roots)`` runs here while the units work; with ``links``, the subtree units also
    link the unchanged tiles below their ``roots``. Returns the CRC-32 of every new source tile
    the workers read (each is read exactly once), as a flat ``index, crc...`` array. With them in
    the version's fingerprint, a tile whose modification time changed but whose bytes did not (a
    fresh clone, a restored cache) is recognised as unchanged instead of refused as edited.
    """
    units, top = split_work(target.grid, plan.compute, executor.jobs)
    with shared_tables(tmp, plan.owners, plan.compute) as tables:  # sent to the workers once, not with every unit
        files = target.files(plan.version, tables["owners"], home, tmp)
        batch = executor.start(run_unit, [_job(target, files, u, tables["compute"], links) for u in units])
        try:
            if meanwhile is not None:
                meanwhile(frozenset(root for unit in units for root in unit.roots))
        except BaseException:
            batch.cancel()  # no worker may still write into ``tmp`` while it is removed
            raise
        checksums = array("q")
        for result in batch.results():
            checksums.extend(result.checksums)
        if top is not None:
            checksums.extend(executor.run(run_unit, [_job(target, files, top, tables["compute"])])[0].checksums)
    return checksums


def _job(target: Target, files: TileFiles, unit: WorkUnit, compute, links: bool = False) -> UnitJob:
    """A unit's job, the version's compute set in it replaced by its shared form."""
    unit = replace(unit, compute=compute)
    return UnitJob(files, target.spec.quality, target.resampler, target.storage, unit, links)


def _write_descriptors(target: Target, fmt, folder: Path, version: int) -> None:
    """A version's descriptors are placed files like its tiles: the storage writes them."""
    storage = registry().get("storage", target.storage)
    url = f"{target.base_url.rstrip('/')}/{fmt.name}/v{version}" if target.base_url else None
    for rel, data in fmt.descriptors(target.spec, target.grid, VersionContext(version, url)).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        storage.write(str(path), data)
