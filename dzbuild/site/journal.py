"""The site's journal, ``CACHE/journal.json``: what each image's last build saw, so a rerun skips what did not change.

An image is skipped (no engine call, no page rendered, its output not walked) only when every
file and folder its build reads or writes has the identity the journal recorded: its folder,
``pyramid.json``, each source file (inode, size, mtime and ctime, as git's index keeps them, and
only once the engine has verified its bytes), its state and format folders in the cache, its output
folder, format folders, page and changes. A new version, an edited tile, a vacuum, a deleted
output or a leftover of a killed build moves one of them, and the image takes the full path. So
does any identity recorded within the racy window (git's "racily clean" rule), and every image
when the site's configuration, templates, viewer, plugins or dzbuild itself changed.

The journal is a cache, written atomically once the build succeeded: a build killed anywhere
leaves the previous one, whose entries no longer match what that build touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from .. import __version__
from ..plugins import get_plugin_manager, registry
from ..pyramid.sources import file_identity, is_racy, version_number
from ..pyramid.state import State, write_json_atomic
from .hooks import template_dirs, template_vars
from .hostlimits import OutputStats, measure
from .pages import PAGE, ImageInfo

JOURNAL_FILE = "journal.json"
SCHEMA = 1
INFO_FIELDS = ("width", "height", "tile_size", "format", "versions", "available", "overlap")


def context_key(config, template_dirs: list[Path], template_vars: dict) -> str:
    """A digest of everything every page and build depends on besides the images themselves (not
    which executor or how many workers build them: they change no byte)."""
    templates = sorted(
        (str(path), file_identity(path.stat()))
        for folder in template_dirs
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file()
    )
    plugins = sorted(name for name, _ in get_plugin_manager().list_name_plugin())
    site = replace(config, jobs=None, executor=None)
    text = repr((__version__, site, templates, plugins, sorted(template_vars.items(), key=str)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _identity(path: str) -> list[int] | None:
    """``file_identity`` of a file or folder, None if there is nothing there."""
    try:
        return file_identity(os.stat(path))
    except FileNotFoundError:
        return None


def observe(source: Path, cached: str, out: str, formats: tuple[str, ...]) -> dict:
    """The identities of what an image's build reads and writes: sources, cache and output."""
    versions = {}
    with os.scandir(source) as entries:
        for entry in entries:
            if version_number(entry.name) is not None and entry.is_dir():
                with os.scandir(entry.path) as files:
                    versions[entry.name] = {f.name: file_identity(f.stat()) for f in files if f.name[:1] != "."}
    places = [
        *(f"{cached}/{name}" for name in (".dzbuild", *formats)),
        *(f"{out}/{name}" for name in ("", PAGE, "changes", *formats)),
    ]
    return {
        "source": _identity(str(source)),
        "spec": _identity(f"{source}/pyramid.json"),
        "versions": versions,
        "places": [_identity(place) for place in places],
    }


def _settled(seen: dict, now_ns: int) -> bool:
    """No identity in ``seen`` is racy at ``now_ns``."""
    identities = [seen["source"], seen["spec"], *seen["places"]]
    identities += [identity for files in seen["versions"].values() for identity in files.values()]
    return not any(identity is not None and is_racy(identity, now_ns) for identity in identities)


def page_key(info: ImageInfo, viewer) -> str:
    """What an image's page is rendered from, with ``viewer``, the OpenSeadragon it loads (the
    site-wide inputs are in the context)."""
    formats = [fmt.name for fmt in info.formats]
    return repr((info.rel, info.title, *(getattr(info, name) for name in INFO_FIELDS), formats, info.viewer.name,
                 info.manifest, info.manifest_url, viewer))  # fmt: skip


class Journal:
    """The entries of the last successful build, and the ones this build records."""

    def __init__(self, cache: Path, context: str, fresh: bool = False) -> None:
        self.path = cache / JOURNAL_FILE
        self.context = context
        self.entries = {} if fresh else self._read()
        self.recorded: dict[str, dict] = {}

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("context") != self.context:
            return {}
        images = data.get("images")
        return images if isinstance(images, dict) else {}

    def unchanged(self, rel: str, seen: dict) -> dict | None:
        """The image's entry if everything it depends on is as recorded, else None."""
        entry = self.entries.get(rel)
        if entry is None or entry.get("seen") != seen:
            return None
        self.recorded[rel] = entry
        return entry

    def specs_to_check(self, images) -> tuple:
        """The images whose ``pyramid.json`` is not the one the last build read (identity unchanged)."""
        def known(image) -> bool:
            entry = self.entries.get(image.rel)
            return entry is not None and entry["seen"]["spec"] == _identity(f"{image.source}/pyramid.json")

        return tuple(image for image in images if not known(image))

    def page_is_current(self, info: ImageInfo, viewer) -> bool:
        """Whether an unchanged image's page was rendered from exactly ``info`` (and is still in place)."""
        entry = self.recorded.get(info.rel)
        return entry is not None and entry["page"] == page_key(info, viewer)

    def record(self, rel: str, seen: dict, info: ImageInfo, viewer, stats: dict[str, OutputStats], tree: Path) -> None:
        """Keep what a build of ``rel`` saw (taken after it wrote everything), if it is settled and the
        engine verified every source file; else the next build takes the full path for it again."""
        self.recorded.pop(rel, None)
        trusted = State(tree / rel).source_cache()["files"]
        if not all(trusted.get(key) == files for key, files in seen["versions"].items()):
            return
        if _settled(seen, time.time_ns()):
            self.recorded[rel] = {
                "seen": seen,
                "info": {name: getattr(info, name) for name in INFO_FIELDS},
                "stats": {fmt: [st.files, st.bytes, st.largest, st.largest_path] for fmt, st in stats.items()},
                "page": page_key(info, viewer),
            }

    def save(self) -> None:
        """Replace the journal atomically with the entries of this build (removed images drop out);
        a build that learnt nothing new leaves it as it is."""
        if self.recorded == self.entries and self.path.exists():
            return
        write_json_atomic(self.path, {"schema": SCHEMA, "context": self.context, "images": self.recorded})


def open_journal(config, rebuild: bool) -> Journal:
    """The journal of the site's last build, unless ``--rebuild`` forgets it or the site-wide inputs changed."""
    context = context_key(config, template_dirs(config.templates), template_vars("image.html", config))
    return Journal(config.cache, context, fresh=rebuild)


def unchanged_images(journal: Journal, config, images, tree: Path) -> dict[str, ImageInfo]:
    """The images nothing moved for since the last build, with their ``ImageInfo`` from the journal."""
    formats = tuple(registry().get("format", name) for name in config.formats)  # as build_image resolves them
    viewer = registry().get("format", config.viewer.format)
    found = {}
    for image in images:
        seen = observe(image.source, f"{tree}/{image.rel}", f"{config.output}/{image.rel}", config.formats)
        entry = journal.unchanged(image.rel, seen)
        if entry is not None:
            found[image.rel] = info_of(entry, image.rel, formats, viewer)
    return found


def record_images(journal: Journal, config, viewer, images, unchanged: dict, rendered: set[str], tree: Path) -> dict:
    """Record every image this build wrote for; return the counts of every image's format folders,
    by output-relative path, for the host limits."""
    known = {}
    for info in images:
        rel, out = info.rel, config.output / info.rel
        if rel in unchanged:
            stats = stats_of(journal.recorded[rel])
        else:
            stats = {fmt: measure(out / fmt) for fmt in config.formats if (out / fmt).is_dir()}
        if rel not in unchanged or rel in rendered:
            seen = observe(config.source / rel, f"{tree}/{rel}", str(out), config.formats)
            journal.record(rel, seen, info, viewer, stats, tree)
        known.update({f"{rel}/{fmt}": counts for fmt, counts in stats.items()})
    return known


def info_of(entry: dict, rel: str, formats: tuple, viewer) -> ImageInfo:
    data = entry["info"]
    return ImageInfo(rel, **{**data, "available": tuple(data["available"])}, formats=formats, viewer=viewer)


def stats_of(entry: dict) -> dict[str, OutputStats]:
    """The counts of an image's format folders, by format name."""
    return {fmt: OutputStats(*counts) for fmt, counts in entry["stats"].items()}
