"""IIIF-style manifests in a site: where each image's lies, and one per collection listing its members'.

A format that writes a manifest beside an image's version folders (``manifest``) may also list a
collection's members (``collection`` and ``collection_document``); the site writes that file into
the collection's folder (``COLLECTION/iiif/collection.json``) whenever its bytes change.
"""

from __future__ import annotations

from ..api import HasCollectionDocument, HasManifest
from ..io.files import write_if_changed
from ..plugins import capability
from .pages import url_path


def manifest_of(formats: dict, output, rel: str) -> str | None:
    """The image's manifest path relative to its folder (``iiif/manifest.json``), if one was published."""
    for name, fmt in formats.items():
        listing = capability(fmt, HasManifest)
        if listing is not None and (output / rel / name / listing.manifest).is_file():
            return f"{name}/{listing.manifest}"
    return None


def place_manifests(config, images, groups, formats: dict) -> tuple[set[str], int]:
    """Find each image's manifest and write each collection's; return the output paths owned and files written."""
    base = config.base_url.rstrip("/") + "/"
    for info in images:
        info.manifest = manifest_of(formats, config.output, info.rel)
        info.manifest_url = base + url_path(f"{info.rel}/{info.manifest}") if info.manifest else None
    return write_collection_manifests(config, groups, formats)


def write_collection_manifests(config, groups, formats: dict) -> tuple[set[str], int]:
    """Write each collection's member list per format; return the output paths owned and files written."""
    base = config.base_url.rstrip("/") + "/"
    owned, written = set(), 0
    for name, fmt in formats.items():
        listing = capability(fmt, HasCollectionDocument)
        if listing is None:
            continue
        for group in groups:
            members = [
                (base + url_path(f"{image.rel}/{image.manifest}"), image.title)
                for image in group.members
                if image.manifest and image.manifest.startswith(f"{name}/")
            ]
            if not members:
                continue
            rel = f"{group.path}/{name}/{listing.collection}"
            document = listing.collection_document(base + url_path(f"{group.path}/{name}"), group.title, members)
            written += write_if_changed(config.output / rel, document)
            owned.add(rel)
    return owned, written
