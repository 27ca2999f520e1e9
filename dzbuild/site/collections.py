"""Collections of a site: declared in the configuration or by a ``collection.toml``/``.json`` in a folder.

This module parses and resolves the declarations (globs against the scanned images) and hands
each collection to the collection engine (``dzbuild.collection``) after its members are built.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from ..errors import ConfigError
from ..io import userfiles
from ..pyramid.formats import DEEP_ZOOM
from ..pyramid.sources import version_number
from .config import CollectionConfig, collection_config
from .scan import SiteImage
from .tables import read_toml


def load_collection_file(file: Path, source: Path) -> CollectionConfig:
    """A ``collection.toml``/``collection.json``: its folder is the collection; globs are relative to it."""
    if file.suffix == ".toml":
        data = read_toml(file)
    else:
        try:
            data = userfiles.loads(userfiles.read_text(file))
        except ValueError as exc:
            raise ConfigError(f"cannot read as JSON: {exc}", file) from None
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", file) from None
        if not isinstance(data, dict):
            raise ConfigError("must be a JSON object", file)
    base = file.parent.relative_to(source).as_posix()
    base = "" if base == "." else base
    data = {"name": collection_name(file.parent), "images": ["**"], **data}
    data.setdefault("path", base or data["name"])
    return collection_config(data, file, base=base, where="")


def collection_name(folder: Path) -> str:
    """The name of a collection whose file does not give one: its folder's name, made safe for file names.

    One rule for ``dzbuild build`` and ``dzbuild collection``, so the same folder gives the same ``.dzc``.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(folder).resolve().name).strip("-._")
    return name or "collection"


def glob_regex(pattern: str) -> re.Pattern:
    """``*`` and ``?`` stay inside one folder name, ``**`` crosses folders, ``[...]`` is a set."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def resolve_members(collection: CollectionConfig, images: tuple[SiteImage, ...]) -> list[SiteImage]:
    """The member images in declared order (each glob's matches sorted by path), without repeats."""
    chosen: dict[str, SiteImage] = {}
    prefix = collection.base + "/" if collection.base else ""
    for pattern in collection.images:
        regex = glob_regex(posixpath.normpath(prefix + pattern.strip("/")))  # "../x" climbs out of the folder
        found = [image for image in images if regex.match(image.rel)]
        if not found:
            raise ConfigError(
                f"collection {collection.name!r}: {pattern!r} matches no image folder", collection.declared_in
            )
        for image in found:
            chosen.setdefault(image.rel, image)
    return list(chosen.values())


def check_paths(collections: tuple[CollectionConfig, ...], images: tuple[SiteImage, ...], formats=(DEEP_ZOOM,)) -> None:
    """Two collections, or a collection and an image, must not share an output folder; and a site
    with collections publishes Deep Zoom, which their ``.dzc`` and pages open members in."""
    if collections and DEEP_ZOOM not in formats:
        raise ConfigError(
            f"collection {collections[0].name!r} lists its members' Deep Zoom images, which 'formats'"
            f" {list(formats)} does not publish; add \"{DEEP_ZOOM}\"",
            collections[0].declared_in,
        )
    taken = {image.rel: f"image {image.rel!r}" for image in images}
    for collection in collections:
        clash = taken.get(collection.path) or next(
            (f"image {rel!r}" for rel in taken if collection.path.startswith(rel + "/")), None
        )
        if clash:
            raise ConfigError(
                f"collection {collection.name!r} would be written to {collection.path!r}, which {clash} uses;"
                " give it another 'path'",
                collection.declared_in,
            )
        taken[collection.path] = f"collection {collection.name!r}"
        for image in images:
            inside = (
                image.rel[len(collection.path) + 1 :].split("/")[0]
                if image.rel.startswith(collection.path + "/")
                else ""
            )
            if version_number(inside) is not None:
                raise ConfigError(
                    f"image {image.rel!r} is named like a version folder of collection {collection.name!r}; rename it",
                    collection.declared_in,
                )
