"""What is published in a ``dest/`` folder, recorded in ``dest/.dzbuild/``.

Version ``n`` is published when ``v{n}.json`` exists. The record holds the spec, the resampler,
the formats and the planner's owners table, so a rerun reads one small file. The fingerprints
of source folder ``v{n}/`` (``[size, mtime_ns, crc32]`` per file) are in ``v{n}.sources.json``,
written before the record and read only when a folder must be compared file by file.
Publishing writes ``v{n}.pending.json`` first, renames the version's folders into place, then
renames the pending record: a crash at any point leaves either an unpublished version (its
temporary folders are removed on the next run) or a published one. ``Publication`` is that rule,
shared by images and collections: published versions are never touched again (CDNs cache them forever).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import BuildError
from ..grid import Owners
from ..io.files import PARTIAL_MARK, remove_path, retract, write_atomic
from .spec import PyramidSpec

STATE_DIR = ".dzbuild"
SCHEMA = 3  # 2 kept owners as plain lists, 1 also every folder's fingerprints; both are still read
SOURCE_CACHE = "source-cache.json"  # a cache, not a record: safe to delete (see ``source_cache``)
VACUUM_JOURNAL = "vacuum.json"  # what an interrupted ``dzbuild vacuum`` still has to remove


def write_json_atomic(path: Path, data) -> None:
    """Write JSON durably under a temporary name and rename it into place."""
    write_atomic(path, [json.dumps(data, separators=(",", ":"))], durable=True)  # dumps: the C encoder


def write_text_atomic(path: Path, chunks) -> None:
    """Write text given in pieces durably under a temporary name and rename it into place."""
    write_atomic(path, chunks, durable=True)


def encode_owners(owners) -> list[list[int]]:
    """Run-length form of an owners table: per level ``[owner, count, owner, count...]``.

    A first version is one run per level and a patch a few, so a record stays small and
    writing it never holds a number per tile of a huge image.
    """
    encoded = []
    for level in owners:
        runs: list[int] = []
        start = 0
        while start < len(level):
            value = level[start]
            end = start + 1
            while end < len(level) and level[end] == value:
                end += 1
            runs += (value, end - start)
            start = end
        encoded.append(runs)
    return encoded


def decode_owners(encoded) -> "Owners":
    levels = []
    for runs in encoded:
        level: tuple[int, ...] = ()
        for at in range(0, len(runs), 2):
            level += (runs[at],) * runs[at + 1]
        levels.append(level)
    return tuple(levels)


def is_image_record(data, version: int) -> bool:
    """The shape every reader of an image's record relies on, checked once when it is read from disk."""
    return (
        isinstance(data, dict)
        and data.get("version") == version
        and isinstance(data.get("spec"), dict)
        and sorted(data["spec"]) == sorted(PyramidSpec._fields)
        and all(type(value) is (str if key == "format" else int) for key, value in data["spec"].items())
        and isinstance(data.get("resampler"), str)
        and isinstance(data.get("formats"), list)
        and all(isinstance(name, str) for name in data["formats"])
        and (data.get("vacuumed") is True or isinstance(data.get("owners"), list))
    )


def _as_list(folders) -> list[Path]:
    return [folders] if isinstance(folders, Path) else list(folders)


class State:
    """Read and write the records of the published versions of one image's ``dest/`` folder."""

    def __init__(self, dest: Path, is_record=None) -> None:
        self.dest = dest
        self.dir = dest / STATE_DIR
        self.is_record = is_record or is_image_record  # what a record read from disk must look like
        self._records: dict[int, dict] = {}

    def record_path(self, version: int) -> Path:
        return self.dir / f"v{version}.json"

    def pending_path(self, version: int) -> Path:
        return self.dir / f"v{version}.pending.json"

    def published_count(self) -> int:
        """Number of consecutive published versions from v0 on."""
        count = 0
        while self.record_path(count).exists():
            count += 1
        return count

    def source_cache(self) -> dict:
        """What earlier runs verified about the published source folders, so a rerun need not read them again.

        ``files``: ``"v{n}" -> {name: [inode, size, mtime_ns, ctime_ns]}``, the identity (as git's
        index keeps it) of each file whose bytes matched the record. Deleting the cache only costs
        reading every published source file once.
        """
        try:
            with open(self.dir / SOURCE_CACHE, encoding="utf-8") as handle:
                cache = json.load(handle)
        except (FileNotFoundError, ValueError):
            cache = {}
        files = cache.get("files") if isinstance(cache, dict) else None
        return {"files": files if isinstance(files, dict) else {}}

    def save_source_cache(self, cache: dict) -> None:
        write_json_atomic(self.dir / SOURCE_CACHE, cache)

    def sources_path(self, version: int) -> Path:
        return self.dir / f"v{version}.sources.json"

    def sources(self, version: int) -> dict:
        """The fingerprint of source folder ``v{version}/`` as it was published."""
        try:
            with open(self.sources_path(version), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            inline = self.record(version).get("sources", {})  # a schema 1 record holds them inline
            if f"v{version}" in inline:
                return inline[f"v{version}"]
        except ValueError:
            pass

        damaged = "is missing or damaged: run dzbuild check, or rebuild every version with --rebuild"
        raise BuildError(damaged, self.sources_path(version))

    def all_sources(self, count: int) -> dict:
        """``{"v{k}": fingerprint}`` for the first ``count`` versions."""
        return {f"v{number}": self.sources(number) for number in range(count)}

    def record(self, version: int) -> dict:
        """A published version's record, read once per State (a rerun needs the latest twice)."""
        cached = self._records.get(version)
        if cached is None:
            try:
                with open(self.record_path(version), encoding="utf-8") as handle:
                    cached = json.load(handle)
            except (ValueError, RecursionError):  # not JSON, not UTF-8
                cached = None
            if not self.is_record(cached, version):
                damaged = "is damaged: run dzbuild check, or rebuild every version with --rebuild"
                raise BuildError(damaged, self.record_path(version))
            self._records[version] = cached
        return cached

    def add_formats(self, version: int, names: list[str]) -> None:
        """Note formats added to a published version later; its tiles and other formats stay as they are."""
        record = dict(self.record(version))
        record["formats"] = [*record["formats"], *(n for n in names if n not in record["formats"])]
        write_json_atomic(self.record_path(version), record)
        self._records[version] = record

    @staticmethod
    def owners_of(record: dict, key: str = "owners") -> "Owners":
        """An owners table of a record (``owners`` or ``overlap_owners``), whatever its schema."""
        if record.get("schema", 1) >= 3:
            return decode_owners(record[key])
        return tuple(tuple(level) for level in record[key])

    def prepare(self, version: int, record: dict, owners: Owners, sources=None) -> None:
        """Write the pending record of a version whose folders are about to be renamed into place.

        ``sources``, an image version's ``TileFingerprint``, is written first (collections have none).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        if sources is not None:
            write_text_atomic(self.sources_path(version), sources.json_chunks())
        data = {"schema": SCHEMA, "version": version, **record, "owners": encode_owners(owners)}
        write_json_atomic(self.pending_path(version), data)

    def commit(self, version: int) -> None:
        """Publish a prepared version: from here on it is immutable."""
        os.replace(self.pending_path(version), self.record_path(version))
        self._records.pop(version, None)

    def recover(self, version_dir_of) -> list[Path]:
        """Finish or discard what an interrupted build left; return what was removed.

        ``version_dir_of(n)`` is the final folder of version ``n`` (or a list: one per format). A
        pending record whose folders all made it into place is committed; a version folder without
        a record was never published (a crash between two formats, a rebuild cut short) and is
        removed, like any other leftover.
        """
        removed = []
        if self.dir.is_dir():
            for pending in sorted(self.dir.glob("v*.pending.json")):
                version = int(pending.name[1:].split(".", 1)[0])
                folders = _as_list(version_dir_of(version))
                if all(folder.is_dir() for folder in folders):
                    self.commit(version)
                else:
                    removed += retract(folders)
                    pending.unlink()
                    removed.append(pending)
            for path in self.dir.glob(f"*{PARTIAL_MARK}*"):
                remove_path(path)
                removed.append(path)
        number = self.published_count()
        if self.dir.is_dir():  # the sources of a version that was never published
            for path in self.dir.glob("v*.sources.json"):
                if int(path.name[1:].split(".", 1)[0]) >= number:
                    path.unlink()
                    removed.append(path)
        while orphans := [folder for folder in _as_list(version_dir_of(number)) if folder.is_dir()]:
            removed += retract(orphans)
            number += 1
        if self.dest.is_dir():
            for path in self.dest.glob(f".*{PARTIAL_MARK}*"):  # a rebuild's old output, moved aside
                remove_path(path)
                removed.append(path)
            for format_dir in self.dest.iterdir():
                if format_dir.is_dir() and format_dir.name != STATE_DIR:
                    for path in format_dir.glob(f".*{PARTIAL_MARK}*"):
                        remove_path(path)
                        removed.append(path)
        return removed


class Publication:
    """The folders and record of one version being published; a context manager.

    Leaving the block by an exception abandons the version: its temporary folders, any folder
    already renamed into place and its pending record are removed (best effort: what cannot be
    removed now, ``State.recover`` removes on the next run).
    """

    def __init__(self, state: State, version: int) -> None:
        self.state = state
        self.version = version
        self.finals: dict[Path, Path] = {}  # temporary folder -> its final name

    def __enter__(self) -> "Publication":
        return self

    def __exit__(self, kind, exc, traceback) -> None:
        if kind is not None:
            self.abandon()

    def folder(self, final: Path, subfolders=()) -> Path:
        """A new, empty temporary folder that ``place`` will rename to ``final``."""
        tmp = final.with_name(f".{final.name}{PARTIAL_MARK}{os.getpid()}")
        self.finals[tmp] = final
        tmp.mkdir(parents=True)
        for rel in subfolders:
            (tmp / rel).mkdir(parents=True, exist_ok=True)
        return tmp

    def prepare(self, record: dict, owners, sources=None) -> None:
        """Write the pending record: from here on a crash is finished by the next run, not undone."""
        self.state.prepare(self.version, record, owners, sources)

    def place(self, tmp: Path) -> Path:
        """Rename a prepared temporary folder into place; return its final path."""
        os.rename(tmp, self.finals[tmp])
        return self.finals[tmp]

    def commit(self) -> None:
        self.state.commit(self.version)

    def abandon(self) -> None:
        try:
            for tmp in self.finals:
                remove_path(tmp)
            retract(list(self.finals.values()))
            self.state.pending_path(self.version).unlink(missing_ok=True)
            for parent in {final.parent for final in self.finals.values()}:
                parent.rmdir()  # only if empty: a failed first version leaves no folder behind
        except OSError:
            pass
