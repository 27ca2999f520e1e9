"""Documents beside a format's version folders that list every published version (a IIIF manifest).

A format may name one (``manifest``, a file name) and make it (``manifest_document``). Unlike a
version folder it changes whenever a version is published, backfilled or vacuumed, so it lives
in the format's folder, is rewritten then (only when its bytes change), and is never served as
immutable.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..api import HasManifest, VersionContext
from ..io.files import write_if_changed
from ..plugins import capability, registry
from .sources import version_number
from .spec import PyramidSpec
from .state import State


def write_manifests(dest: Path, spec: PyramidSpec, formats, base_url: str | None, label: str) -> list[str]:
    """Rewrite the manifest of each format that has one; return the paths written, relative to ``dest``."""
    written = []
    for fmt in formats:
        listing, folder = capability(fmt, HasManifest), dest / fmt.name
        if listing is None or not folder.is_dir() or not base_url:  # a manifest names absolute URLs
            continue
        url = f"{base_url.rstrip('/')}/{fmt.name}"
        numbers = sorted(n for n in map(version_number, os.listdir(folder)) if n is not None)
        versions = [VersionContext(n, f"{url}/v{n}") for n in numbers]
        data = listing.manifest_document(spec, spec.grid, versions, url, label) if versions else None
        if data is not None and write_if_changed(folder / listing.manifest, data):
            written.append(f"{fmt.name}/{listing.manifest}")
    return written



def rewrite_manifests(dest: Path, label: str) -> list[str]:
    """After versions left ``dest`` (``dzbuild vacuum``): rewrite its manifests from the latest record."""
    state = State(dest)
    count = state.published_count()
    if not count:
        return []
    record = state.record(count - 1)
    formats = [registry().get("format", name) for name in record["formats"]]
    return write_manifests(dest, PyramidSpec(**record["spec"]), formats, record.get("base_url"), label)
