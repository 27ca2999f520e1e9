"""The pure planner: what each version computes and links, and how the work is cut into units."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dzbuild.grid import Grid, Tile
from dzbuild.pyramid.planner import plan_version, plan_versions, split_work


@st.composite
def histories(draw, max_cols: int = 12):
    """A small random grid and the base tiles each version v0, v1... provides (v0: all of them)."""
    width, height = draw(st.integers(1, 600)), draw(st.integers(1, 600))
    tile = draw(st.integers(max(1, max(width, height) // max_cols), 300))
    grid = Grid(width, height, tile)
    base = list(grid.tiles(grid.max_level))
    patches = draw(st.lists(st.sets(st.sampled_from(base), min_size=1), max_size=4))
    return grid, [set(base), *patches]


def ancestors_of(grid: Grid, tiles) -> set[Tile]:
    return {a for t in tiles for a in grid.ancestors(t)}


def touched_by(grid: Grid, changes) -> list[set[Tile]]:
    """Per version, the tiles it changed and every tile above them, found by walking parents."""
    return [set(changed) | ancestors_of(grid, changed) for changed in changes]


def expected_owner(touched: list[set[Tile]], version: int, tile: Tile) -> int:
    """Independent rule: the latest version up to ``version`` that changed this tile or a tile below it."""
    return max(number for number in range(version + 1) if tile in touched[number])


def plan_all(grid: Grid, changes):
    plans, owners = [], None
    for number, changed in enumerate(changes):
        plans.append(plan_version(grid, number, changed, owners))
        owners = plans[-1].owners
    return plans


@settings(max_examples=80, deadline=None)
@given(history=histories())
def test_a_version_computes_exactly_the_ancestors_of_what_it_changes(history):
    grid, changes = history
    for plan, changed in zip(plan_all(grid, changes), changes, strict=True):
        assert plan.changed == changed
        assert plan.compute == ancestors_of(grid, changed)
        assert plan.linked_count(grid) == grid.total_tiles - len(plan.compute)
        assert all(t.level < grid.max_level for t in plan.compute)


@settings(max_examples=60, deadline=None)
@given(history=histories())
def test_owners_follow_the_latest_change_below_each_tile(history):
    grid, changes = history
    plans = plan_all(grid, changes)
    touched = touched_by(grid, changes)
    all_tiles = [t for level in grid.levels for t in grid.tiles(level)]
    for number, plan in enumerate(plans):
        for tile in all_tiles:
            owner = plan.owner(grid, tile)
            assert 0 <= owner <= number  # never a version later than the one planned
            assert owner == expected_owner(touched, number, tile)
            if number and tile not in plan.changed | plan.compute:
                assert owner == plans[number - 1].owner(grid, tile)  # carried over unchanged
            if tile in plan.changed | plan.compute:
                assert owner == number


@settings(max_examples=60, deadline=None)
@given(history=histories(), split=st.data())
def test_planning_again_after_publishing_is_empty(history, split):
    grid, changes = history
    published = split.draw(st.integers(0, len(changes)))
    done = plan_versions(grid, changes[:published], 0, None)
    owners = done[-1].owners if done else None
    rest = plan_versions(grid, changes, published, owners)
    assert [p.version for p in rest] == list(range(published, len(changes)))
    assert [p.owners for p in done + rest] == [p.owners for p in plan_all(grid, changes)]
    final = (done + rest)[-1].owners
    assert plan_versions(grid, changes, len(changes), final) == []


def test_first_version_owns_everything_and_computes_every_level_above_the_base():
    grid = Grid(750, 500, 250)
    plan = plan_version(grid, 0, grid.tiles(10), None)
    assert plan.owners == tuple((0,) * grid.tile_count(level) for level in grid.levels)
    assert plan.compute == {t for level in range(10) for t in grid.tiles(level)}
    assert plan.linked_count(grid) == 6  # the base tiles, linked to v0/


def test_one_tile_patch_recomputes_one_path_to_the_top():
    grid = Grid(750, 500, 250)
    v0 = plan_version(grid, 0, grid.tiles(10), None)
    v1 = plan_version(grid, 1, {Tile(10, 2, 1)}, v0.owners)
    assert v1.compute == {Tile(9, 1, 0)} | {Tile(level, 0, 0) for level in range(9)}
    assert v1.owner(grid, Tile(10, 2, 1)) == 1
    assert v1.owner(grid, Tile(10, 0, 0)) == 0
    assert v1.owner(grid, Tile(9, 0, 0)) == 0


def test_bad_plans_are_refused():
    grid = Grid(750, 500, 250)
    with pytest.raises(ValueError, match="first version"):
        plan_version(grid, 0, [Tile(10, 0, 0)], None)
    v0 = plan_version(grid, 0, grid.tiles(10), None)
    with pytest.raises(ValueError, match="base-level"):
        plan_version(grid, 1, [Tile(9, 0, 0)], v0.owners)
    with pytest.raises(ValueError, match="base-level"):
        plan_version(grid, 1, [Tile(10, 3, 0)], v0.owners)


# -- split_work ----------------------------------------------------------------------------------


def check_post_order(grid: Grid, unit, compute, before: set[Tile]) -> None:
    """Children come before parents; reads are exactly the children the unit does not write."""
    written: set[Tile] = set()
    for tile in unit.writes:
        for child in grid.children(tile):
            if child in compute and child not in unit.reads:
                assert child in written, f"{child} is written after its parent {tile}"
        written.add(tile)
    children = {c for t in unit.writes for c in grid.children(t)}
    assert len(unit.reads) == len(set(unit.reads))
    assert set(unit.reads) == children - written
    computed_reads = set(unit.reads) & compute
    assert computed_reads <= before, "a unit reads a computed tile nobody wrote before it"


@settings(max_examples=100, deadline=None)
@given(history=histories(max_cols=48), jobs=st.integers(1, 4), version=st.data())
def test_split_work_covers_the_compute_set_once_in_post_order(history, jobs, version):
    grid, changes = history
    plans = plan_all(grid, changes)
    plan = plans[version.draw(st.integers(0, len(plans) - 1))]
    units, top = split_work(grid, plan.compute, jobs)
    everything = [t for u in [*units, *([top] if top else [])] for t in u.writes]
    assert Counter(everything) == Counter(plan.compute)  # each computed tile exactly once
    for unit in units:
        check_post_order(grid, unit, plan.compute, before=set())  # subtrees are independent
    if top is not None:
        roots = {u.writes[-1] for u in units}
        assert len({t.level for t in roots}) == 1  # subtrees are cut at one level
        check_post_order(grid, top, plan.compute, before=roots)
        assert top.writes[-1] == Tile(0, 0, 0)
    if plan.compute and top is None:
        assert len(units) == 1 and units[0].writes[-1] == Tile(0, 0, 0)


def test_split_work_makes_many_units_for_a_big_first_version():
    grid = Grid(4096, 4096, 64)
    plan = plan_version(grid, 0, grid.tiles(grid.max_level), None)
    units, top = split_work(grid, plan.compute, jobs=2)
    assert len(units) >= 16 and top is not None
    assert {u.writes[-1].level for u in units} == {top.reads[0].level}
    single, no_top = split_work(grid, plan.compute, jobs=1)
    assert len(single) == 1 and no_top is None


def test_split_work_of_nothing_is_nothing():
    assert split_work(Grid(10, 10, 4), frozenset(), jobs=4) == ([], None)
