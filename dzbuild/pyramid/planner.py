"""The incremental planner: which tiles a version computes and which it links. No I/O.

The state of a published version is its *owners* table: for every tile, the number of the
version whose file physically holds it (a source folder ``v{k}/`` for the base level, the
output of version ``k`` above it). A new version owns the base tiles it changes and every
ancestor of them; every other tile keeps its owner and is linked to that one physical file, so
a link never points at another link.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import chain
from typing import AbstractSet, Iterable, Sequence

from ..grid import Grid, Owners, Tile, TileSet, ancestors_of


@dataclass(frozen=True)
class OverlapPlan:
    """Tiles with overlap borders: each is made from the 3x3 core tiles around it."""

    owners: Owners
    compute: frozenset[Tile]


@dataclass(frozen=True)
class VersionPlan:
    version: int
    owners: Owners
    changed: AbstractSet[Tile]  # base-level tiles the version's source folder provides
    compute: AbstractSet[Tile]  # tiles the version computes: the ancestors of ``changed`` (a TileSet)
    overlap: OverlapPlan | None = None  # only for pyramids with overlap >= 1

    def owner(self, grid: Grid, tile: Tile) -> int:
        return self.owners[tile.level][grid.index(tile)]

    def computed_count(self) -> int:
        """Tiles this version encodes: its changed ancestors, plus the re-cut overlap tiles."""
        return len(self.compute) + (len(self.overlap.compute) if self.overlap else 0)

    def linked_count(self, grid: Grid) -> int:
        """Published tiles that are links to files an earlier version (or the sources) holds."""
        return grid.total_tiles - len(self.overlap.compute if self.overlap else self.compute)


def plan_version(grid: Grid, version: int, changed: Iterable[Tile], previous: Owners | None) -> VersionPlan:
    """Plan version ``version`` given the tiles it changes and the owners of the version before it.

    ``changed`` is kept as given when it is a ``TileSet`` (what ``scan_version`` returns), so a
    first version of a huge image holds no Python object per tile.
    """
    if not isinstance(changed, TileSet):
        changed = frozenset(changed)
    outside = [t for t in changed if t.level != grid.max_level or not grid.contains(t)]
    if outside:
        raise ValueError(f"changed tiles must be base-level tiles of the grid, got {sorted(outside)[0]}")
    if previous is None:
        if version != 0 or len(changed) != grid.tile_count(grid.max_level):
            raise ValueError("the first version must provide every base-level tile")
        owners = tuple((0,) * grid.tile_count(level) for level in grid.levels)
        return VersionPlan(version, owners, changed, TileSet.whole_levels(grid, grid.levels[:-1]))
    compute = ancestors_of(grid, changed)
    table = [list(level) for level in previous]
    for tile in chain(changed, compute):
        table[tile.level][grid.index(tile)] = version
    return VersionPlan(version, tuple(tuple(level) for level in table), changed, compute)


def plan_overlap(grid: Grid, plan: VersionPlan, previous: Owners | None) -> VersionPlan:
    """Add the overlap tiles to a core plan: every tile next to a changed core tile changes too.

    A core tile changes when the version computes it or, at the base level, provides it; its
    neighbours' borders show its pixels, so the changed set is dilated by one tile per level.
    """
    if previous is None:
        return replace(plan, overlap=OverlapPlan(plan.owners, frozenset(plan.compute | plan.changed)))
    compute = {n for tile in plan.compute | plan.changed for n in grid.neighbourhood(tile)}
    table = [list(level) for level in previous]
    for tile in compute:
        table[tile.level][grid.index(tile)] = plan.version
    overlap = OverlapPlan(tuple(tuple(level) for level in table), frozenset(compute))
    return replace(plan, overlap=overlap)


def plan_versions(
    grid: Grid,
    changes: Sequence[Iterable[Tile]],
    published: int,
    owners: Owners | None,
    overlap_owners: Owners | None = None,
    overlap: bool = False,
) -> list[VersionPlan]:
    """Plan every version from ``published`` on; ``changes[n]`` are the base tiles of ``v{n}/``.

    With everything published the plan is empty: a rerun does nothing.
    """
    plans = []
    for version in range(published, len(changes)):
        plans.append(plan_next(grid, version, changes[version], owners, overlap_owners, overlap))
        owners, overlap_owners = plans[-1].owners, plans[-1].overlap and plans[-1].overlap.owners
    return plans


def plan_next(grid: Grid, version: int, changed, owners, overlap_owners=None, overlap: bool = False) -> VersionPlan:
    """Plan one version after the one whose owners tables are given: the step builds take one at a time."""
    plan = plan_version(grid, version, changed, owners)
    return plan_overlap(grid, plan, overlap_owners) if overlap else plan


# -- Splitting the work into independent units --------------------------------------------------


@dataclass(frozen=True)
class WorkUnit:
    """The subtrees below ``roots`` that one worker computes, children before parents.

    The unit is only its roots: ``walk()`` lists the tiles to write and to read when the unit
    runs (in the worker), so planning a huge image holds no list of its tiles.
    """

    grid: Grid = field(repr=False)
    compute: AbstractSet[Tile] = field(repr=False, compare=False)  # the version's whole compute set
    roots: tuple[Tile, ...]
    depth_limit: int  # descend into computed tiles above this level only; below it, read them

    def walk(self) -> tuple[list[Tile], list[Tile]]:
        """Tiles to compute in post-order (children before parents) and the tiles to read from files."""
        grid, compute, depth_limit = self.grid, self.compute, self.depth_limit
        writes: list[Tile] = []
        reads: list[Tile] = []
        stack: list[tuple[Tile, bool]] = [(r, False) for r in reversed(self.roots)]
        while stack:
            tile, expanded = stack.pop()
            if expanded:
                writes.append(tile)
                continue
            stack.append((tile, True))
            for child in reversed(grid.children(tile)):
                if child.level < depth_limit and child in compute:
                    stack.append((child, False))
                else:
                    reads.append(child)
        return writes, reads

    @property
    def writes(self) -> list[Tile]:
        return self.walk()[0]

    @property
    def reads(self) -> list[Tile]:
        return self.walk()[1]


def split_work(grid: Grid, compute: AbstractSet[Tile], jobs: int) -> tuple[list[WorkUnit], WorkUnit | None]:
    """Cut the compute set into independent subtrees plus the top that joins them.

    The subtrees can run in any order and in parallel; the top (if any) runs after all of them
    and reads their roots from disk. Subtrees are rooted at the highest level that offers at
    least eight units per job, so every worker stays busy to the end.
    """
    if not compute:
        return [], None
    root = Tile(0, 0, 0)
    split = _split_level(grid, compute, jobs)
    if split is None:
        return [WorkUnit(grid, compute, (root,), grid.max_level)], None
    roots = [t for t in grid.tiles(split) if t in compute]  # row by row
    units = [WorkUnit(grid, compute, (r,), grid.max_level) for r in roots]
    return units, WorkUnit(grid, compute, (root,), split)


def _split_level(grid: Grid, compute: AbstractSet[Tile], jobs: int) -> int | None:
    if jobs <= 1:
        return None
    if isinstance(compute, TileSet):
        counts = [compute.count(level) for level in grid.levels]
    else:
        counts = [0] * (grid.max_level + 1)
        for tile in compute:
            counts[tile.level] += 1
    for level, count in enumerate(counts):
        if count >= 8 * jobs:
            return level
    return None
