"""Build the next version of a Deep Zoom Collection: the straight pipeline behind ``dzbuild collection``."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..api import Executor
from ..errors import ConfigError
from ..io.files import PARTIAL_MARK, remove_path
from ..io.lock import locked
from ..plugins import registry
from ..pyramid.build import VersionTotals
from ..pyramid.state import State
from ..run.forkpool import ForkPool
from ..run.select import check_paths
from .canvas import prune_canvases
from .layout import MortonLayout
from .members import read_members
from .planner import plan_collection
from .publish import TILE_FORMAT, CollectionTarget, CollectionVersionReport, publish_collection
from .state import check_settings, is_collection_record, load_previous, record_of

# The name becomes ``{name}.dzc`` and ``{name}_files/``: one plain file name, no separators or hidden files.
SAFE_NAME = re.compile(r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,199}$")


@dataclass
class CollectionReport(VersionTotals):
    name: str
    out_dir: str
    published_before: int
    versions: list[CollectionVersionReport] = field(default_factory=list)
    latest_descriptor: Path | None = None
    items: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        """The machine-readable form printed by ``--json``."""
        return {
            "collection": self.name,
            "out_dir": self.out_dir,
            "published_before": self.published_before,
            "versions_built": [v.version for v in self.versions],
            "latest_descriptor": str(self.latest_descriptor) if self.latest_descriptor else None,
            "items": self.items,
            "tiles_computed": self.computed,
            "tiles_linked": self.linked,
            "seconds": round(self.seconds, 3),
        }


def build_collection(
    out_dir: Path | str,
    name: str,
    members: Sequence[tuple[str, Path]],
    *,
    tile_size: int = 256,
    max_level: int = 8,
    quality: int = 85,
    storage: str = "hardlink",
    executor: Executor | None = None,
    jobs: int | None = None,
) -> CollectionReport:
    """Publish a new collection version if a member gained a version or members were added or removed.

    ``members`` are ``(stable key, image output folder)`` in declared order; each key keeps its item
    number forever. A rerun with nothing new publishes nothing. Returns a ``CollectionReport``:
    ``versions`` published by this call, ``latest_descriptor`` (the newest ``.dzc``) and ``summary()``.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    layout = _check_args(out_dir, name, members, tile_size, max_level, quality)
    settings = {"name": name, "tile_size": tile_size, "max_level": max_level, "format": TILE_FORMAT, "quality": quality}
    with locked(out_dir):
        state = State(out_dir, is_collection_record)
        _recover(state, out_dir)  # 1. finish or drop what a crashed run left
        previous, published = load_previous(state)
        prune_canvases(out_dir, previous.owners if previous else ())  # what a crashed run kept
        check_settings(published, settings, out_dir)  # 2. published tiles never change
        report = CollectionReport(name, str(out_dir), state.published_count())
        current = read_members(out_dir, members, layout, previous)  # 3. what each member publishes now
        plan = plan_collection(layout, previous, current)  # 4. pure: which tiles change
        report.items = len(current)
        if plan is not None:  # 5. compute those, link the rest, rename into place
            registry().get("storage", storage)  # an unknown storage fails before any work
            target = CollectionTarget(out_dir, name, layout, quality, storage)
            with nullcontext(executor) if executor else ForkPool(jobs) as executor:  # a caller's executor stays open
                check_paths(executor, read=[dest for _, dest in members], write=[out_dir])  # workers elsewhere see them
                report.versions.append(publish_collection(target, plan, record_of(plan, settings), state, executor))
        latest = state.published_count() - 1
        report.latest_descriptor = CollectionTarget(out_dir, name, layout, quality, storage).descriptor(latest)
    report.seconds = time.perf_counter() - started
    return report


def _check_args(out_dir: Path, name: str, members, tile_size: int, max_level: int, quality: int) -> MortonLayout:
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        what = "a plain file name (no '/', not starting with '.')"
        raise ConfigError(f"collection name must be {what}, got {name!r}", out_dir)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ConfigError(f"collection quality must be between 1 and 100, got {quality!r}", out_dir)
    if not members:
        raise ConfigError(f"collection {name!r} has no members", out_dir)
    try:
        return MortonLayout(tile_size, max_level)
    except ConfigError as exc:
        raise ConfigError(exc.message, out_dir) from None


def _recover(state: State, out_dir: Path) -> None:
    """Commit a version whose folder made it into place; remove half-built folders."""
    state.recover(lambda n: out_dir / f"v{n}")
    for path in out_dir.glob(f".v*{PARTIAL_MARK}*"):
        remove_path(path)
