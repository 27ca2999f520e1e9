"""The pure collection planner: stable numbers, minimal recomputation, owners that never point at links."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dzbuild.collection.layout import CollectionTile, MortonLayout
from dzbuild.collection.planner import ABSENT, Member, plan_collection

LAYOUT = MortonLayout(256, 8)
SMALL = MortonLayout(4, 2)  # 4 px tiles: 16 cells per tile at level 0, 1 at level 2; many tiles from few items


def member(key: str, version: int = 0, levels=None, layout: MortonLayout = LAYOUT) -> Member:
    levels = tuple(levels) if levels is not None else (version,) * len(layout.levels)
    return Member(f"../{key}/dest", version, 1, 300, 200, 256, 0, "jpg", levels)


def build(plans_members, layout: MortonLayout = LAYOUT):
    """Plan successive versions; return the list of plans (None for no-ops)."""
    state, plans = None, []
    for members in plans_members:
        plan = plan_collection(layout, state, members)
        plans.append(plan)
        state = plan.state() if plan else state
    return plans


def test_first_version_computes_every_live_tile():
    (plan,) = build([[(k, member(k)) for k in "abcde"]])
    assert plan.version == 0 and plan.next_id == 5
    assert [plan.items[k].id for k in "abcde"] == [0, 1, 2, 3, 4]
    assert len(plan.compute) == plan.live == 5 + 2 + 1 * 7  # level 8: one per item; 7: two; 6..0: one
    assert plan.linked == 0
    assert plan.owners[8] == (0, 0, 0, 0, 0) and plan.owners[7] == (0, 0)


def test_nothing_new_is_a_no_op():
    members = [(k, member(k)) for k in "abc"]
    assert build([members, list(members)])[1] is None


def test_adding_an_item_recomputes_one_tile_per_level():
    members = [(k, member(k)) for k in "abcde"]
    _, plan = build([members, members + [("f", member("f"))]])
    assert plan.items["f"].id == 5 and plan.added == ("f",)
    assert plan.compute == {LAYOUT.tile_of(5, level) for level in LAYOUT.levels}
    assert plan.owners[8] == (0, 0, 0, 0, 0, 1)
    assert plan.linked == plan.live - (LAYOUT.max_level + 1)


def test_member_version_recomputes_only_levels_whose_tiles_changed():
    before = [(k, member(k)) for k in "abc"]
    # b's v1 changed tiles that only reach collection levels 0..5 (its levels 6..8 are still v0's files)
    after = [before[0], ("b", member("b", 1, [1] * 6 + [0] * 3)), before[2]]
    _, plan = build([before, after])
    assert plan.changed == ("b",)
    assert plan.compute == {CollectionTile(level, 0) for level in range(6)}


def test_new_member_version_with_same_pixels_publishes_links_only():
    before = [("a", member("a"))]
    _, plan = build([before, [("a", member("a", 1, [0] * 9))]])
    assert plan.version == 1 and not plan.compute and plan.linked == plan.live


def test_removed_item_leaves_a_hole_and_numbers_stay():
    members = [(k, member(k)) for k in "abcde"]
    _, plan = build([members, [m for m in members if m[0] != "b"]])
    assert plan.removed == ("b",) and plan.items["e"].id == 4 and plan.next_id == 5
    assert plan.owners[8] == (0, ABSENT, 0, 0, 0)  # b's own tile is gone, nothing moved
    assert plan.compute == {LAYOUT.tile_of(1, level) for level in range(8)}  # its shared tiles lose a cell


def test_returning_key_keeps_its_number_and_new_keys_do_not_reuse_holes():
    a, b, c = ((k, member(k)) for k in "abc")
    plans = build([[a, b], [a], [a, c], [a, c, b]])
    assert plans[2].items["c"].id == 2
    assert plans[3].items["b"].id == 1 and plans[3].next_id == 3


def test_declared_order_only_numbers_new_keys():
    a, b, c = ((k, member(k)) for k in "abc")
    plans = build([[a, b], [b, c, a]])
    assert {k: i.id for k, i in plans[1].items.items()} == {"a": 0, "b": 1, "c": 2}


def test_moved_member_output_recomputes_its_cells():
    _, plan = build([[("a", member("a"))], [("a", member("elsewhere"))]])
    assert plan.changed == ("a",) and len(plan.compute) == plan.live


# -- The incremental property, on random histories --------------------------------------------------

operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "bump"]), st.integers(0, 39), st.integers(0, 7)), max_size=25
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_every_live_tile_is_owned_by_the_version_that_last_computed_its_content(ops):
    """Model a tile's content as its cells' keys; an owner must hold exactly today's content."""
    layout = SMALL
    live: dict[str, Member] = {"k0": member("k0", layout=layout)}
    state, written = None, {}  # (version, tile) -> content that version computed
    for op, n, changed_from in [("noop", 0, 0)] + ops:
        key = f"k{n}"
        if op == "add" and key not in live:
            live[key] = member(key, layout=layout)
        elif op == "remove" and key in live and len(live) > 1:
            del live[key]
        elif op == "bump" and key in live:
            old = live[key]
            levels = [v + 1 if level >= changed_from % 3 else v for level, v in enumerate(old.levels)]
            live[key] = member(key, old.version + 1, levels, layout)
        plan = plan_collection(layout, state, list(live.items()))
        if plan is None:
            continue
        for tile in plan.compute:
            written[(plan.version, tile)] = _content(layout, plan, tile)
        for level, row in enumerate(plan.owners):
            for m, owner in enumerate(row):
                tile = CollectionTile(level, m)
                content = _content(layout, plan, tile)
                assert (owner == ABSENT) == (not content)
                if owner != ABSENT:
                    assert written[(owner, tile)] == content  # a link to the one file with these pixels
        state = plan.state()


def _content(layout: MortonLayout, plan, tile: CollectionTile) -> frozenset:
    cells = layout.items_of(tile)
    return frozenset((item.id, item.member.cell_key(tile.level)) for item in plan.items.values() if item.id in cells)
