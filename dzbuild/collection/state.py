"""Collection versions as records in ``out_dir/.dzbuild/v{k}.json``, through ``dzbuild.pyramid.state.State``.

The same pending-then-commit protocol as images: version ``k`` is published when its record
exists. Besides the owners table, a record holds the settings every version must share and each
item's number and member view, so a rerun reads one small file and decides without pixels.
"""

from __future__ import annotations

from dataclasses import fields

from ..errors import PublishedError
from ..pyramid.state import State
from .planner import CollectionPlan, CollectionState, Item, Member

MEMBER_FIELDS = tuple(f.name for f in fields(Member))


def is_collection_record(data, version: int) -> bool:
    """The shape ``load_previous`` relies on (``State`` checks it when it reads a record)."""
    keys = ("items", "ids", "settings")
    return (
        isinstance(data, dict)
        and data.get("version") == version
        and type(data.get("next_id")) is int
        and isinstance(data.get("owners"), list)
        and all(isinstance(data.get(key), dict) for key in keys)
        and all(isinstance(entry, dict) and "id" in entry and "member" in entry for entry in data["items"].values())
    )


def load_previous(state: State) -> tuple[CollectionState | None, dict | None]:
    """The latest published collection version and its settings, or (None, None)."""
    count = state.published_count()
    if not count:
        return None, None
    record = state.record(count - 1)
    items = {key: Item(entry["id"], _member(entry["member"])) for key, entry in record["items"].items()}
    owners = State.owners_of(record)
    previous = CollectionState(record["version"], record["next_id"], dict(record["ids"]), items, owners)
    return previous, record["settings"]


def check_settings(published: dict | None, wanted: dict, out_dir) -> None:
    """Refuse settings that would change the bytes of published tiles (CDNs cache them forever)."""
    if published is None:
        return
    for key, before in published.items():
        now = wanted.get(key)
        if now != before:
            raise PublishedError(
                f"collection {key!r} changed from {before!r} to {now!r} after v0 was published;"
                " published versions never change: use a new output folder, or rebuild",
                out_dir,
            )


def record_of(plan: CollectionPlan, settings: dict) -> dict:
    """The JSON record of a planned version (``State.prepare`` adds schema, version and owners)."""
    return {
        "settings": settings,
        "next_id": plan.next_id,
        "ids": plan.ids,
        "items": {key: {"id": item.id, "member": _member_dict(item.member)} for key, item in plan.items.items()},
        "added": list(plan.added),
        "removed": list(plan.removed),
        "changed": list(plan.changed),
        "computed": len(plan.compute),
        "linked": plan.linked,
    }


def _member_dict(member: Member) -> dict:
    data = {name: getattr(member, name) for name in MEMBER_FIELDS}  # ``asdict`` is slow for 1,000 items
    data["levels"] = list(member.levels)
    return data


def _member(data: dict) -> Member:
    return Member(**{**data, "levels": tuple(data["levels"])})
