"""Refusing any build that would change a published version: CDNs cache those forever.

A rerun must stay cheap, so a published source file whose identity (inode, size, mtime and ctime,
as git's index keeps them) matches what an earlier run verified is not read again; any other is
compared with the record, by CRC-32. ``dzbuild check`` compares every file.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import PublishedError
from .sources import all_trusted, changed_files
from .spec import PyramidSpec
from .state import State

DEFAULT_RESAMPLER = "dct"


def check_published(image_dir, spec: PyramidSpec, options, sources, state: State, record) -> tuple:
    """Refuse anything that would change a published version.

    Returns the resampler to use and the updated source cache (None when unchanged).
    """
    if record is None:
        return options.resampler or DEFAULT_RESAMPLER, None
    published = record["version"] + 1
    spec_path = image_dir / "pyramid.json"
    for key, before in record["spec"].items():
        now = getattr(spec, key)
        if now != before:
            raise PublishedError(
                f"{key!r} changed from {before!r} to {now!r} after v0 was published; "
                "published versions never change: use a new image folder, or --rebuild",
                spec_path,
            )
    if options.resampler and options.resampler != record["resampler"]:
        raise PublishedError(
            f"published versions use the {record['resampler']!r} resampler, not {options.resampler!r}; "
            "use --rebuild to recompute every version",
            image_dir,
        )
    if published > len(sources):
        raise PublishedError(f"v{published - 1} was published but its source folder is gone", sources[-1].parent)
    return record["resampler"], _check_sources_unchanged(sources[:published], state)


def _check_sources_unchanged(folders: list[Path], state: State) -> dict | None:
    """Refuse a published source folder that gained, lost or changed a file since it was published.

    A rerun costs one ``stat`` per published file, as ``git status`` does; a file rewritten in
    place moves its ctime, so it is read and compared even when its size and mtime were restored.
    Returns the cache to save once the build succeeds, or None if nothing new was learnt.
    """
    cache = state.source_cache()
    files = cache["files"]
    learnt = False
    now = time.time_ns()
    for number, folder in enumerate(folders):
        key = f"v{number}"
        known = files.get(key, {})
        if all_trusted(folder, known):
            continue
        before = dict(known)
        _check_unchanged(folder, number, state.sources(number), len(folders), known, now)
        files[key] = known
        learnt = learnt or known != before
    return cache if learnt else None


def _check_unchanged(folder: Path, number: int, recorded: dict, published: int, known: dict, now: int) -> None:
    changed = changed_files(folder, recorded, known, now)
    if not changed:
        return
    name = changed[0]
    if name not in recorded:
        what = "was added to"
    else:
        what = "was modified in" if (folder / name).exists() else "was removed from"
    raise PublishedError(
        f"{what} v{number}, which is published; put the change in a new version v{published}/ instead"
        " (or run with --rebuild)",
        folder / name,
    )
