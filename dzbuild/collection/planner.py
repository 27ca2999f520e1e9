"""The collection planner: which shared tiles a new collection version computes. No I/O.

A collection version's state is its items (stable key -> item number and the member version it
shows) and an *owners* table: for every level, indexed by tile Morton number, the collection
version whose folder physically holds that tile, or ``-1`` where no live item lies (the tile is
not written). A new version owns exactly the tiles in which some cell's content changed: an item
added, removed, or showing different member pixels at that level. Every other live tile keeps its
owner and is linked to that one file, so a link never points at another link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .layout import CollectionTile, MortonLayout

ABSENT = -1
Owners = tuple[tuple[int, ...], ...]  # per level, indexed by tile Morton number


@dataclass(frozen=True)
class Member:
    """What a collection knows about a member's latest published version (see ``members.py``)."""

    dest: str  # the member's output folder, relative to the collection's output folder
    version: int
    stamp: int  # identity of the member's v0 record: changes only when the member was rebuilt from scratch
    width: int
    height: int
    tile_size: int
    overlap: int
    format: str
    levels: tuple[int, ...]  # per collection level: newest owner version of the member tiles its cell shows

    def cell_key(self, level: int) -> tuple:
        """Equal keys mean equal pixels in the item's cell at ``level``."""
        return (self.dest, self.stamp, self.levels[level])

    def same_version(self, other: Member) -> bool:
        return (self.dest, self.version, self.stamp) == (other.dest, other.version, other.stamp)


@dataclass(frozen=True)
class Item:
    id: int
    member: Member


@dataclass(frozen=True)
class CollectionState:
    """A published collection version, as the planner needs it."""

    version: int
    next_id: int
    ids: dict[str, int]  # every key ever seen -> its number, so a key that comes back keeps its cell
    items: dict[str, Item]  # the live items
    owners: Owners


@dataclass(frozen=True)
class CollectionPlan:
    version: int
    next_id: int
    ids: dict[str, int]
    items: dict[str, Item]
    owners: Owners
    compute: frozenset[CollectionTile]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    live: int = 0  # how many tiles this version has
    changed_cells: tuple[frozenset[int], ...] = ()  # per level: items whose cell shows something new (or a hole)
    before: dict[CollectionTile, int] = field(default_factory=dict)  # computed tile -> its previous owner

    @property
    def linked(self) -> int:
        return self.live - len(self.compute)

    def owner(self, tile: CollectionTile) -> int:
        return self.owners[tile.level][tile.m]

    def state(self) -> CollectionState:
        return CollectionState(self.version, self.next_id, self.ids, self.items, self.owners)


def plan_collection(
    layout: MortonLayout, previous: CollectionState | None, members: Sequence[tuple[str, Member]]
) -> CollectionPlan | None:
    """Plan the next collection version for ``members`` (in declared order); None when nothing changed."""
    old = previous.items if previous else {}
    ids, next_id = _assign_ids(previous, [key for key, _ in members])
    items = {key: Item(ids[key], member) for key, member in members}
    added = tuple(key for key in items if key not in old)
    removed = tuple(key for key in old if key not in items)
    changed = tuple(key for key in items if key in old and not items[key].member.same_version(old[key].member))
    if previous is not None and not (added or removed or changed):
        return None
    version = previous.version + 1 if previous else 0
    owners, compute, cells, before, live = [], set(), [], {}, 0
    for level in layout.levels:
        row, dirty, changed_here = _level_owners(layout, level, version, next_id, old, items, previous)
        owners.append(row)
        compute |= dirty
        cells.append(changed_here)
        if previous:
            before.update(_previous_owners(previous.owners[level], dirty))
        live += sum(1 for owner in row if owner != ABSENT)
    return CollectionPlan(
        version, next_id, ids, items, tuple(owners), frozenset(compute), added, removed, changed, live,
        tuple(cells), before,
    )  # fmt: skip


def _previous_owners(row: tuple[int, ...], tiles) -> dict[CollectionTile, int]:
    return {tile: row[tile.m] for tile in tiles if tile.m < len(row) and row[tile.m] != ABSENT}


def _assign_ids(previous: CollectionState | None, keys: list[str]) -> tuple[dict[str, int], int]:
    """Known keys keep their number forever; new keys get NextItemId in declared order."""
    ids = dict(previous.ids) if previous else {}
    next_id = previous.next_id if previous else 0
    for key in keys:
        if key not in ids:
            ids[key] = next_id
            next_id += 1
    return ids, next_id


def _level_owners(layout, level, version, next_id, old, items, previous):
    """One level's owners row and the tiles this version computes there."""
    before = {item.id: item.member.cell_key(level) for item in old.values()}
    after = {item.id: item.member.cell_key(level) for item in items.values()}
    changed_cells = frozenset(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    dirty = {tile.m for tile in layout.tiles_holding(changed_cells, level)}
    live = {tile.m for tile in layout.tiles_holding(after, level)}
    row = list(previous.owners[level]) if previous else []
    row += [ABSENT] * (layout.tiles_per_level(next_id, level) - len(row))
    for m in range(len(row)):
        if m not in live:
            row[m] = ABSENT
        elif m in dirty:
            row[m] = version
        elif row[m] == ABSENT:  # pragma: no cover - a tile only comes alive when an item arrives
            raise AssertionError(f"tile {m} of level {level} came alive without a change")
    return tuple(row), {CollectionTile(level, m) for m in dirty & live}, changed_cells
