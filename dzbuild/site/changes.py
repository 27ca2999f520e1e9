"""Which tiles each version changed, for the compare view's overlay: ``IMAGE/changes/v{n}.json``.

A published version folder holds exactly its format's files, so the list lives beside the page.
It comes from the version's record in the cache: a base-level tile whose owner is ``k > 0``
differs from v0 and was last changed by v{k}. Comparing v{a} with a newer v{b} outlines the
tiles of ``changes/v{b}.json`` whose version is above ``a``; those whose version is ``b`` are
exactly the tiles v{b} changed. Records never change once published, so an existing file is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..grid import Grid
from ..io.files import write_if_changed
from ..pyramid.state import State

CHANGES_DIR = "changes"


def changes_url(version: int) -> str:
    """The list of version ``version``, relative to its image's folder."""
    return f"{CHANGES_DIR}/v{version}.json"


def changed_tiles(record: dict, grid: Grid) -> list[list[int]]:
    """``[col, row, version]`` of every base-level tile a later version replaced, row by row."""
    base = State.owners_of(record)[grid.max_level]
    cols = grid.tile_counts(grid.max_level).width
    return [[index % cols, index // cols, owner] for index, owner in enumerate(base) if owner > 0]


def changes_document(record: dict, grid: Grid, version: int) -> dict:
    return {
        "version": version,
        "width": grid.width,
        "height": grid.height,
        "tile_size": grid.tile_size,
        "level": grid.max_level,
        "tiles": changed_tiles(record, grid),
    }


def write_changes(dest: Path, image_out: Path, grid: Grid, versions: tuple[int, ...]) -> list[str]:
    """Write the lists of ``versions`` (v0 has none) from the records under ``dest``; drop any other.

    Returns the written paths relative to ``image_out``.
    """
    state = State(dest)
    folder = image_out / CHANGES_DIR
    wanted = {changes_url(v) for v in versions if v > 0}
    for rel in sorted(wanted):
        target = image_out / rel
        if not target.exists():
            version = int(target.stem[1:])
            document = changes_document(state.record(version), grid, version)
            write_if_changed(target, json.dumps(document, separators=(",", ":")).encode("utf-8"))
    if folder.is_dir():
        for path in folder.iterdir():
            if f"{CHANGES_DIR}/{path.name}" not in wanted:
                path.unlink()
    return sorted(wanted)
