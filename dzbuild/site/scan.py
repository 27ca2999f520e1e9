"""Find what a site holds: image folders (a ``pyramid.json``) and collection folders.

Only folder names are read, so scanning a large site costs a few ``scandir`` calls. An image
folder is not searched further (its ``v0/``, ``v1/``... hold tiles, not images). A symbolic link
to a folder is not followed: it could lead back up (``ln -s . loop``) or across the whole file
system (``ln -s / root``); ``dzbuild build`` names them in one warning instead.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from ..pyramid.spec import SPEC_FILE, load_spec

COLLECTION_FILES = ("collection.toml", "collection.json")
SKIPPED_NAMES = {"node_modules", "__pycache__"}


@dataclass(frozen=True)
class SiteImage:
    rel: str  # posix path below the source root, e.g. "gallery/harbour"; the image's key and URL path
    source: Path  # the image folder (pyramid.json, v0/, v1/...)

    @property
    def name(self) -> str:
        return PurePosixPath(self.rel).name


@dataclass(frozen=True)
class Scan:
    images: tuple[SiteImage, ...]
    collection_files: tuple[Path, ...]  # collection.toml / collection.json files, in path order
    unspecified: tuple[Path, ...] = ()  # folders holding a v0/ but no pyramid.json: tiles dzbuild cannot read
    linked: tuple[Path, ...] = ()  # symbolic links to folders, not followed


class LinkedFolders(UserWarning):
    """The source holds symbolic links to folders, which the scan does not follow."""


class UnspecifiedTiles(UserWarning):
    """A folder holds a ``v0/`` of tiles but no ``pyramid.json``, so it is not built."""


WHAT_MAKES_AN_IMAGE = f"an image folder holds a {SPEC_FILE} (width, height, tile_size, overlap) and a v0/ of tiles"


def require_images(scan: Scan, source: Path) -> None:
    """A site with no image folder is a mistake; folders of tiles without ``pyramid.json`` and links
    to folders are named."""
    if scan.linked:
        first, more = scan.linked[0], _more(scan.linked)
        warnings.warn(f"{first} is a symbolic link to a folder{more}: not followed, so no image below it is built"
                      " (move the folder into the site instead)", LinkedFolders)
    if not scan.unspecified:
        if not scan.images:
            raise ConfigError(f"no image folder found below this folder ({WHAT_MAKES_AN_IMAGE})", source)
        return
    first, more = scan.unspecified[0], _more(scan.unspecified)
    message = f"holds v0/ but no {SPEC_FILE}{more}, so it is not an image folder ({WHAT_MAKES_AN_IMAGE})"
    if not scan.images:
        raise ConfigError(f"no image folder found below {source}: {first} {message}")
    warnings.warn(f"{first} {message}", UnspecifiedTiles)


def check_specs(images: tuple[SiteImage, ...], tile_defaults: dict | None = None) -> None:
    """Read every image's ``pyramid.json`` now: a broken one stops the build before any image's tile work."""
    for image in images:
        load_spec(image.source, tile_defaults)


def _more(paths: tuple[Path, ...]) -> str:
    return f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""


def scan_site(source: Path, skip: tuple[Path, ...] = ()) -> Scan:
    """Every image and collection file under ``source``, sorted by path.

    Hidden folders, ``node_modules`` and the folders in ``skip`` (the output and the cache)
    are never entered, so a build never finds its own output.
    """
    images: list[SiteImage] = []
    collections: list[Path] = []
    unspecified: list[Path] = []
    linked: list[Path] = []
    skipped = {os.path.realpath(p) for p in skip}
    stack = [source]
    while stack:
        folder = stack.pop()
        names = _visible_entries(folder)
        if SPEC_FILE in names["files"]:
            if folder == source:
                raise ConfigError(
                    "is an image folder: dzbuild build takes the site folder that holds image folders"
                    " (dzbuild pyramid builds one image)",
                    folder,
                )
            images.append(SiteImage(_checked_rel(folder.relative_to(source).as_posix(), folder), folder))
            continue
        collections.extend(folder / name for name in COLLECTION_FILES if name in names["files"])
        links = (folder / name for name in names["links"])
        linked.extend(link for link in links if os.path.realpath(link) not in skipped)  # an output linked elsewhere
        if "v0" in names["dirs"]:
            unspecified.append(folder)
            continue
        for name in names["dirs"]:
            child = folder / name
            if os.path.realpath(child) not in skipped:
                stack.append(child)
    images.sort(key=lambda image: image.rel)
    collections.sort()
    return Scan(tuple(images), tuple(collections), tuple(sorted(unspecified)), tuple(sorted(linked)))


# What dzbuild writes at the output's root: no image folder, and no other written file, may take these names.
OWNED_NAMES = {"_dzbuild", "_headers", "_redirects", ".nojekyll", "404.html"}


def _checked_rel(rel: str, folder: Path) -> str:
    """An image's path becomes its URL and its output folder: it must be UTF-8 and not a name dzbuild writes."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError("is an image folder whose name is not UTF-8: rename it", folder) from None
    if rel.split("/")[0] in OWNED_NAMES or rel.split("/")[-1] == "index.html":
        raise ConfigError(
            f"is an image folder named like a file dzbuild writes ({rel}): rename it", folder
        )
    return rel


def _visible_entries(folder: Path) -> dict[str, set[str]]:
    """Names of the folders, the links to folders and the other entries (files) in ``folder``."""
    found: dict[str, set[str]] = {"dirs": set(), "links": set(), "files": set()}
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIPPED_NAMES:
                continue
            if entry.is_dir(follow_symlinks=False):
                found["dirs"].add(entry.name)
            else:
                found["links" if entry.is_dir() else "files"].add(entry.name)
    return found
