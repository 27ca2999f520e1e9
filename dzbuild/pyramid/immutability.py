"""Refusing any build that would change a published version: CDNs cache those forever.

A rerun must stay cheap, so a published source folder whose inode and mtime match the seal of an
earlier run is not listed again; ``dzbuild check`` compares every file instead.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import PublishedError
from .sources import changed_files, folder_seal
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

    A folder whose inode and mtime match its seal from an earlier run is not listed again: a
    rerun or a patch costs one ``stat`` per published version, not one per published tile. A
    file rewritten in place keeps the folder's mtime; ``dzbuild check`` compares every file.
    Returns the cache to save once the build succeeds, or None if nothing new was learnt.
    """
    cache = state.source_cache()
    seals, verified = cache["seals"], cache["verified"]
    before = repr(cache)
    now = time.time_ns()
    for number, folder in enumerate(folders):
        key = f"v{number}"
        seal = folder_seal(folder, now)
        if seal is not None and seals.get(key) == seal:
            continue
        _check_unchanged(folder, number, state.sources(number), len(folders), verified)
        if seal is not None:
            seals[key] = seal
    return cache if repr(cache) != before else None


def _check_unchanged(folder: Path, number: int, recorded: dict, published: int, verified: dict) -> None:
    changed = changed_files(folder, recorded, verified, f"v{number}")
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
