"""Execute one version's plan: assemble it under a temporary name, then rename it into place."""

from __future__ import annotations

import os
import time
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

from ..api import ChecksPaths, Executor
from ..errors import BuildError, PluginError
from ..hookspecs import VersionContext
from ..link import Placement, link_all
from ..plugins import capability, registry
from .compute import TileFiles, UnitJob, run_unit, shared_tables
from .overlap import assemble_overlap
from .packing import pack_version, packing
from .planner import VersionPlan, WorkUnit, split_work
from .renditions import make_renditions
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
                _write_own_files(target, primary, tmp, target.files(plan.version, plan.owners, home, core_tmp))
            record = {**record, "computed": computed, "linked": linked}
            sources.set_crcs(checksums)
            if plan.overlap:
                record["overlap_owners"] = encode_owners(plan.overlap.owners)
            publication.prepare(record, plan.owners, sources)
            home_dir = publication.place(core_tmp) if home is not primary else None
            primary_dir = publication.place(tmp)
            # Other formats link into the home's final folder, so relative symlinks stay valid.
            placement = Placement(plan.owners, home, {plan.version: str(home_dir or primary_dir)})
            home_files = target.files(plan.version, plan.owners, home, home_dir or primary_dir)
            published = plan.overlap.owners if plan.overlap else plan.owners
            for fmt in others:
                other_tmp = _temp_dir(publication, target, fmt)
                _place_format(target, fmt, other_tmp, placement, plan.version, published, home_files)
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
    record = state.record(version)
    published = State.owners_of(record, "overlap_owners") if target.spec.overlap else owners
    with Publication(state, version) as publication:
        tmp = _temp_dir(publication, target, fmt)
        home_files = target.files(version, owners, target.home, target.version_dir(target.home, version))
        _place_format(target, fmt, tmp, Placement(owners, target.home, {}), version, published, home_files)
        publication.place(tmp)


def _place_format(
    target: Target, fmt, tmp: Path, placement: Placement, version: int, published, home: TileFiles
) -> None:
    """A format that is not the first: linked tile by tile, or packed from the first's published tiles.

    ``published`` is the owners table of the first format's tiles (with overlap, of the cut tiles);
    ``home`` says where each tile of the version lies, for the format's renditions.
    """
    packer = packing(fmt)
    if packer is not None:
        pack_version(target, packer, tmp, version, published)
    else:
        link_all(target, fmt, tmp, placement)
    _write_own_files(target, fmt, tmp, home)


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
    _write_own_files(target, fmt, tmp, target.files(plan.version, plan.owners, fmt, tmp))
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


def _write_own_files(target: Target, fmt, folder: Path, home: TileFiles) -> None:
    """The files a version writes rather than links: its descriptors and its renditions (``home`` says
    where each of its tiles lies, complete). The storage places them like tiles."""
    storage = registry().get("storage", target.storage)
    version = home.version
    url = f"{target.base_url.rstrip('/')}/{fmt.name}/v{version}" if target.base_url else None
    spec, grid = target.spec, target.grid
    descriptors = fmt.descriptors(spec, grid, VersionContext(version, url))
    renditions = make_renditions(fmt, grid, spec.format, spec.quality, home.path)
    for rel, data in {**descriptors, **renditions}.items():
        path = folder / rel
        if rel in renditions and (rel in descriptors or os.path.lexists(path)):  # never write through a tile's link
            raise PluginError(f"format {fmt.name!r} names the rendition {rel!r}, which is also a tile or descriptor")
        path.parent.mkdir(parents=True, exist_ok=True)
        storage.write(str(path), data)
