"""Keep dzbuild's part of an output folder across a generator that empties it before each build.

``mkdocs build`` deletes ``site_dir`` and would have every pyramid linked in again, file by file
(hundreds of links, then as many unlinks next time). Renaming dzbuild's folders aside before the
clean and back after it costs one rename each. Where a rename cannot work (the output and the
cache on different filesystems), nothing is kept and the build links the pyramids again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..io.files import write_if_changed
from ..site.assets import ASSETS_DIR

PATHS_FILE = "site-paths.json"  # CACHE/site-paths.json: the output paths dzbuild owns, posix
KEEP_DIR = "kept"  # CACHE/kept/: where they wait while the generator empties the output


def owned_paths(image_keys, formats) -> list[str]:
    """``_dzbuild`` and each image's format folders (``REL/dzi``...), below the output."""
    return [ASSETS_DIR, *(f"{key}/{fmt}" for key in sorted(image_keys) for fmt in formats)]


def remember(cache: Path, paths: list[str]) -> None:
    write_if_changed(cache / PATHS_FILE, json.dumps(paths, indent=1).encode("utf-8"))


def set_aside(output: Path, cache: Path) -> None:
    """Move the paths the last build owned from ``output`` into the cache, by rename."""
    keep = cache / KEEP_DIR
    shutil.rmtree(keep, ignore_errors=True)  # left by a build that failed in between: it is linked again
    for rel in _paths(cache):
        src, dst = output / rel, keep / rel
        if not src.is_dir() or src.is_symlink():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(src, dst)
        except OSError:  # another filesystem
            return


def put_back(cache: Path, output: Path, paths: list[str]) -> None:
    """Return what ``set_aside`` kept of ``paths`` (this build's), where the output lacks it; drop the rest."""
    keep = cache / KEEP_DIR
    if not keep.is_dir():
        return
    for rel in paths:
        src, dst = keep / rel, output / rel
        if src.is_dir() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dst)
    shutil.rmtree(keep, ignore_errors=True)


def _paths(cache: Path) -> list[str]:
    try:
        return list(json.loads((cache / PATHS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return []
