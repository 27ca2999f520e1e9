"""Read what the collection needs from each member's published records (``dest/.dzbuild/v{n}.json``).

A member is an image folder's output (what ``dzbuild.pyramid.build.build_pyramid`` writes). Its latest
published version is the one whose record exists; a collection never looks at pending work. The
planner compares members cheaply: re-reading a record happens only when the version changed.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, SourceError
from ..grid import Grid
from ..pyramid.formats import DEEP_ZOOM, deep_zoom
from ..pyramid.state import State
from .layout import MortonLayout
from .planner import CollectionState, Member


def relative_dest(dest: Path | str, out_root: str) -> str:
    """A member's output folder relative to the collection's (``out_root``: its absolute path), with ``/``."""
    rel = os.path.relpath(os.path.abspath(dest), out_root)
    return rel.replace(os.sep, "/")


def member_dest(out_dir: Path, member: Member) -> str:
    """The member's output folder as a path string (strings: this runs once per item per build)."""
    return os.path.normpath(os.path.join(out_dir, member.dest))


def dzi_url(member: Member) -> str:
    """The member's DZI relative to a collection version folder ``out_dir/v{k}``, not yet URL-quoted."""
    fmt = deep_zoom()
    return posixpath.normpath(f"../{member.dest}/{fmt.name}/v{member.version}/{fmt.descriptor}")


def read_members(
    out_dir: Path, members: Sequence[tuple[str, Path]], layout: MortonLayout, previous: CollectionState | None
) -> list[tuple[str, Member]]:
    """The current state of every member, reusing the previous record's view of unchanged ones."""
    _check_keys(members, out_dir)
    known = previous.items if previous else {}
    out_root = os.path.abspath(out_dir)
    result = []
    for key, dest in members:
        state = State(Path(dest))
        count = state.published_count()
        if count == 0:
            raise SourceError(f"collection member {key!r} has no published version: build the image first", dest)
        rel, stamp = relative_dest(dest, out_root), _stamp(state)
        old = known.get(key)
        if old is not None and (old.member.dest, old.member.version, old.member.stamp) == (rel, count - 1, stamp):
            result.append((key, old.member))
        else:
            result.append((key, read_member(state, count - 1, rel, stamp, layout)))
    return result


def read_member(state: State, version: int, rel: str, stamp: int, layout: MortonLayout) -> Member:
    """Build a ``Member`` from the record of ``version``: geometry plus per-level change markers."""
    record = state.record(version)
    if DEEP_ZOOM not in record.get("formats", [DEEP_ZOOM]):
        raise ConfigError(f"a collection member must be published as DZI (formats include {DEEP_ZOOM!r})", state.dest)
    spec = record["spec"]
    grid = Grid(spec["width"], spec["height"], spec["tile_size"])
    owners = State.owners_of(record)
    levels = tuple(max(owners[min(level, grid.max_level)]) for level in layout.levels)
    return Member(
        dest=rel,
        version=version,
        stamp=stamp,
        width=grid.width,
        height=grid.height,
        tile_size=grid.tile_size,
        overlap=spec.get("overlap", 0),
        format=spec.get("format", "jpg"),
        levels=levels,
    )


def _stamp(state: State) -> int:
    """The v0 record's modification time: a member rebuilt from scratch gets a new one."""
    return state.record_path(0).stat().st_mtime_ns


def _check_keys(members: Sequence[tuple[str, Path]], out_dir: Path) -> None:
    seen: dict[str, Path] = {}
    for key, dest in members:
        if not isinstance(key, str) or not key:
            raise ConfigError(f"collection member keys must be non-empty strings, got {key!r}", out_dir)
        if key in seen:
            raise ConfigError(f"collection member {key!r} is listed twice ({seen[key]} and {dest})", out_dir)
        seen[key] = dest
