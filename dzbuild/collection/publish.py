"""Publish one collection version: compute the changed tiles, link the rest, rename into place.

The version is assembled in ``out_dir/.v{k}.partial-{pid}`` and renamed to ``out_dir/v{k}`` only
when complete; the record goes pending before the rename and is committed after it, exactly as
for images (``dzbuild.pyramid.state``), so a crash leaves either no trace or a whole version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..api import Executor
from ..link import LinkBatch
from ..plugins import registry
from ..pyramid.state import Publication, State
from .canvas import CANVAS_MIN_CELLS, canvas_path, discard_canvases, prune_canvases
from .dzc import DESCRIPTOR_SUFFIX, Descriptor, DzcItem, dzc_xml
from .layout import CollectionTile, MortonLayout
from .members import dzi_url, member_dest
from .planner import ABSENT, CollectionPlan
from .tiles import TileBatch, TileJob, run_batch

TILE_FORMAT = "jpg"
BATCHES_PER_WORKER = 4


@dataclass
class CollectionVersionReport:
    version: int
    computed: int
    linked: int
    items: int
    added: int
    removed: int
    changed: int
    seconds: float


@dataclass(frozen=True)
class CollectionTarget:
    """Where a collection is written and how its tiles are made and placed."""

    out_dir: Path
    name: str
    layout: MortonLayout
    quality: int
    storage: str

    def version_dir(self, version: int) -> Path:
        return self.out_dir / f"v{version}"

    def descriptor(self, version: int) -> Path:
        return self.version_dir(version) / f"{self.name}{DESCRIPTOR_SUFFIX}"

    def layout_dirs(self) -> list[str]:
        """The tile folders of a version, one per level, relative to the version folder."""
        return [f"{self.name}_files/{level}" for level in self.layout.levels]


def publish_collection(
    target: CollectionTarget, plan: CollectionPlan, record: dict, state: State, executor: Executor
) -> CollectionVersionReport:
    """Build ``plan.version`` and publish it; on any error nothing becomes visible."""
    started = time.perf_counter()
    try:
        with Publication(state, plan.version) as publication:
            tmp = publication.folder(target.version_dir(plan.version), target.layout_dirs())
            running = executor.start(run_batch, _batches(target, plan, tmp, executor.jobs))
            try:
                _link_unchanged(target, plan, tmp)  # while the workers compute
            except BaseException:
                running.cancel()  # no worker may still write into ``tmp`` while it is removed
                raise
            running.results()
            _write_descriptor(target, tmp / f"{target.name}{DESCRIPTOR_SUFFIX}", dzc_xml(descriptor_of(target, plan)))
            publication.prepare(record, plan.owners)
            publication.place(tmp)
            publication.commit()
    except BaseException:
        discard_canvases(target.out_dir, plan.version)
        raise
    prune_canvases(target.out_dir, plan.owners)  # published: what earlier versions kept is superseded
    return CollectionVersionReport(
        plan.version, len(plan.compute), plan.linked, len(plan.items),
        len(plan.added), len(plan.removed), len(plan.changed), time.perf_counter() - started,
    )  # fmt: skip


def descriptor_of(target: CollectionTarget, plan: CollectionPlan) -> Descriptor:
    items = tuple(
        DzcItem(item.id, item.id, quote(dzi_url(item.member)), item.member.width, item.member.height)
        for item in plan.items.values()
    )
    layout = target.layout
    return Descriptor(layout.max_level, layout.tile_size, TILE_FORMAT, plan.next_id, items, target.quality / 100)


def _write_descriptor(target: CollectionTarget, path: Path, data: bytes) -> None:
    """The ``.dzc`` is a placed file of the version, like its tiles: the storage writes it."""
    registry().get("storage", target.storage).write(str(path), data)


def _batches(target: CollectionTarget, plan: CollectionPlan, tmp: Path, jobs: int) -> list[TileBatch]:
    """The tiles to compute, as a few batches per worker (one batch when running inline)."""
    dests = {item.id: member_dest(target.out_dir, item.member) for item in plan.items.values()}
    tile_jobs = [_tile_job(target, plan, tmp, tile, items, dests) for tile, items in _items_by_tile(target, plan)]
    count = 1 if jobs == 1 else min(len(tile_jobs), jobs * BATCHES_PER_WORKER)
    return [TileBatch(tuple(tile_jobs[i::count]), target.quality, target.storage) for i in range(count) if tile_jobs]


def _items_by_tile(target: CollectionTarget, plan: CollectionPlan):
    """Each tile to compute with the live items it holds, in a deterministic order."""
    layout = target.layout
    grouped: dict[CollectionTile, list] = {tile: [] for tile in plan.compute}
    for item in sorted(plan.items.values(), key=lambda i: i.id):
        for level in layout.levels:
            tile = layout.tile_of(item.id, level)
            if tile in grouped:
                grouped[tile].append(item)
    return sorted(grouped.items())


def _tile_job(target: CollectionTarget, plan: CollectionPlan, tmp: Path, tile: CollectionTile, items, dests) -> TileJob:
    layout, level = target.layout, tile.level
    placements = tuple((*layout.offset_in_tile(item.id, level), item.member, dests[item.id]) for item in items)
    out_path = str(tmp / layout.tile_path(target.name, tile, TILE_FORMAT))
    if layout.items_per_tile(level) < CANVAS_MIN_CELLS:
        return TileJob(out_path, layout.tile_size, level, placements)
    cells = layout.items_of(tile)
    changed = frozenset(layout.offset_in_tile(n, level) for n in plan.changed_cells[level] if n in cells)
    previous = plan.before.get(tile)
    base = canvas_path(target.out_dir, tile, previous) if previous is not None else None
    keep = canvas_path(target.out_dir, tile, plan.version)
    return TileJob(out_path, layout.tile_size, level, placements, changed, base, keep)


def _link_unchanged(target: CollectionTarget, plan: CollectionPlan, tmp: Path) -> None:
    """Link every live tile this version does not compute to the one file that holds it."""
    storage = registry().get("storage", target.storage)
    batch = LinkBatch(storage)
    layout, here, folders = target.layout, str(tmp), {}
    for level, row in enumerate(plan.owners):
        for m, owner in enumerate(row):
            if owner in (ABSENT, plan.version):
                continue
            if owner not in folders:
                folders[owner] = str(target.version_dir(owner))
            rel = layout.tile_path(target.name, CollectionTile(level, m), TILE_FORMAT)
            batch.link(f"{folders[owner]}/{rel}", f"{here}/{rel}")
    batch.flush()
