"""``dzbuild check``: verify a published output folder from its files alone, without rebuilding.

What a build promises is checked here, so any test (or CI job) can assert it after a build:
consecutive readable records, descriptors that parse and match ``pyramid.json``, every tile
present with the right codec and pixel size, every tile the file its record says (same inode,
a symlink that resolves inside the site, or equal bytes), no link to a link, nothing extra, no
leftover of an interrupted build, and with ``deep`` every computed tile equal to a
recomputation from its children.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..api import HasManifest
from ..errors import DzbuildError, PluginError
from ..grid import Grid
from ..io.files import PARTIAL_MARK
from ..io.lock import LOCK_NAME, lock_holder
from ..plugins import capability, registry
from ..pyramid.sources import changed_files, version_number
from ..pyramid.spec import SPEC_FILE, PyramidSpec
from ..pyramid.state import SOURCE_CACHE, STATE_DIR, State
from ..pyramid.target import CORE_FOLDER
from ..pyramid.vacuum import JOURNAL, base_changes, kept_owners
from .tiles import check_version

SITE_TREE = "tree"  # a site cache (SITE/.dzbuild) keeps its pyramids under tree/, beside no records


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckReport:
    dest: str
    versions: int = 0
    tiles: int = 0
    recomputed: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> dict:
        counts = {k: v for k, v in vars(self).items() if k != "problems"}
        return {**counts, "problems": [vars(p) for p in self.problems]}


def check_dest(dest: Path | str, deep: bool = False, root: Path | str | None = None) -> list[Problem]:
    """Every problem of one output folder (``IMAGE_DIR/dest`` or a collection's); empty when all is well."""
    return check_report(Path(dest), deep, root).problems


def check(path: Path | str, deep: bool = False, root: Path | str | None = None) -> list[Problem]:
    """Verify the output at ``path`` without rebuilding it, as ``dzbuild check`` does.

    ``path`` is an image folder (its ``dest/``), an output folder, or a tree of them (a site's cache).
    Returns every problem found, each naming the file and what is wrong; an empty list means all is well.
    """
    path = Path(path)
    dests = find_dests(path) if path.is_dir() else []
    if not dests:
        return [Problem(str(path), "holds no dzbuild output (no .dzbuild/ records below it)")]
    return [problem for dest in dests for problem in check_report(dest, deep, root).problems]


def find_dests(path: Path) -> list[Path]:
    """The output folders ``path`` stands for: an image folder's ``dest``, a dest itself, or every one below."""
    if (path / SPEC_FILE).is_file():
        return [path / "dest"]
    found = []
    for folder, dirs, _ in os.walk(path):  # not into versions: a collection's members may sit below it
        if STATE_DIR in dirs and (Path(folder) / STATE_DIR / SITE_TREE).is_dir():
            found += find_dests(Path(folder) / STATE_DIR / SITE_TREE)  # a site's cache: its pyramids
        elif STATE_DIR in dirs:
            found.append(Path(folder))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and version_number(d) is None)
    return found


def check_report(dest: Path, deep: bool = False, root: Path | str | None = None) -> CheckReport:
    checker = _Checker(dest, Path(root) if root is not None else dest.parent, deep)
    checker.run()
    checker.report.problems = list(dict.fromkeys(checker.report.problems))  # one line per distinct problem
    return checker.report


class _Checker:
    def __init__(self, dest: Path, root: Path, deep: bool) -> None:
        self.dest, self.deep = dest, deep
        self.root = os.path.realpath(root)
        self.sources = dest.parent if (dest.parent / SPEC_FILE).is_file() else None  # IMAGE_DIR/dest
        self.report = CheckReport(str(dest))
        self.pixels_seen: dict[tuple, str | None] = {}  # (device, inode, size) -> problem, read once per file
        self.crcs: dict[tuple, int] = {}
        self.unknown_state: list[Path] = []  # other files in .dzbuild/: wrong for an image, a collection's cache

    def problem(self, path, message: str) -> None:
        self.report.problems.append(Problem(str(path), message))

    def run(self) -> None:
        if not self.dest.is_dir():
            return self.problem(self.dest, "does not exist or is not a folder")
        holder = lock_holder(self.dest)
        if holder is not None:  # its temporary folders are work in progress, not leftovers
            return self.problem(self.dest, f"a build is running (process {holder}); check again when it has finished")
        records = self._records()
        if records is None:
            return
        if not records:
            return self.problem(self.dest / STATE_DIR, "holds no v0.json: nothing was published here")
        if all("spec" in record for record in records):
            for path in self.unknown_state:
                self.problem(path, "unexpected file")
            self._check_image(records)
        else:  # a collection: its own checks live with it; here only records against folders
            self._check_folders(self.dest, records)
        self.report.versions = sum(1 for r in records if not r.get("vacuumed"))

    # -- Records ------------------------------------------------------------------------------

    def _records(self) -> list[dict] | None:
        folder = self.dest / STATE_DIR
        if not folder.is_dir():
            self.problem(self.dest, f"has no {STATE_DIR}/ records: not a dzbuild output, or its records were deleted")
            return None
        found: dict[int, dict] = {}
        sources: list[tuple[int, Path]] = []
        for path in sorted(folder.iterdir()):
            record, listing = _numbered(path.name, ".json"), _numbered(path.name, ".sources.json")
            if record is not None:
                found[record] = self._load_record(path, record)
            elif listing is not None:
                sources.append((listing, path))
            elif path.name == SOURCE_CACHE:
                continue  # a rerun's cache, not a record
            elif _leftover(path.name):
                self.problem(path, _leftover(path.name))
            else:
                self.unknown_state.append(path)
        count = 0
        while count in found:
            count += 1
        for number in sorted(n for n in found if n > count):
            self.problem(folder / f"v{number}.json", f"v{count}.json is missing: records must be consecutive")
        for number, path in sources:
            if number >= count:
                unpublished = "sources of an unpublished version (an interrupted build? the next build removes it)"
                self.problem(path, unpublished)
        records = [found[n] for n in range(count)]
        return None if any(r is None for r in records) else records

    def _load_record(self, path: Path, number: int) -> dict | None:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.problem(path, f"cannot be read: {exc}")
            return None
        if not isinstance(record, dict) or record.get("version") != number:
            self.problem(path, f"is not the record of v{number}")
            return None
        return record

    # -- Folders ------------------------------------------------------------------------------

    def _check_folders(self, parent: Path, records: list[dict], allowed: set = frozenset()) -> None:
        """``parent`` holds exactly the published, not vacuumed versions, and nothing half-built."""
        wanted = {f"v{n}" for n, r in enumerate(records) if not r.get("vacuumed")}
        present = set(os.listdir(parent)) if parent.is_dir() else set()
        for entry in sorted(present - wanted - {STATE_DIR, LOCK_NAME} - allowed):
            number = version_number(entry)
            if (parent / entry / STATE_DIR).is_dir():
                continue  # another output below this one (a collection's member image): checked on its own
            if _leftover(entry):
                message = _leftover(entry)
            elif number is not None and number < len(records):
                message = "belongs to a vacuumed version"
            elif number is not None:
                message = "has no record: not published (an interrupted build? the next build removes it)"
            else:
                message = "unexpected"
            self.problem(parent / entry, message)
        for entry in sorted(wanted - present):
            self.problem(parent / entry, "is missing, but its record says it is published")

    def _check_top(self, formats: list[str]) -> None:
        for entry in sorted(os.listdir(self.dest)):
            if entry not in (STATE_DIR, LOCK_NAME, *formats) and not (self.dest / entry / STATE_DIR).is_dir():
                self.problem(self.dest / entry, _leftover(entry) or "unexpected")

    # -- Images -------------------------------------------------------------------------------

    def _check_image(self, records: list[dict]) -> None:
        try:
            sources = State(self.dest).all_sources(len(records))
        except DzbuildError as exc:
            return self.problem(exc.path, exc.message)
        except (OSError, TypeError) as exc:
            return self.problem(self.dest / STATE_DIR, f"source fingerprints are unreadable ({exc!r})")
        try:
            spec, grid, formats, expected = self._image_facts(records, sources)
        except (KeyError, TypeError, ValueError) as exc:
            return self.problem(self._record_path(len(records) - 1), f"record is malformed ({exc!r})")
        except PluginError as exc:
            return self.problem(self.dest, f"cannot be checked: {exc.message}")
        folders = [fmt.name for fmt in formats] + ([CORE_FOLDER.name] if spec.overlap else [])
        self._check_top(folders)
        manifests = {fmt.name: {fmt.manifest} for fmt in formats if capability(fmt, HasManifest)}
        for name in folders:  # beside the versions, only a manifest listing them (IIIF) may lie
            self._check_folders(self.dest / name, records, manifests.get(name, set()))
        for number, record in enumerate(records):
            if expected[number] is None:  # vacuumed
                continue
            owners = [list(level) for level in expected[number]]
            if [list(level) for level in State.owners_of(record)] != owners:
                self.problem(self._record_path(number), "owners table differs from what the sources and vacuums imply")
            overlap_owners = State.owners_of(record, "overlap_owners") if "overlap_owners" in record else None
            version = Version(number, spec, grid, formats, owners, sources, record["resampler"], overlap_owners)
            self._check_version(version)
        if self.sources is not None:
            self._check_sources(sources)

    def _check_sources(self, recorded: dict) -> None:
        """Every published source folder must still hold what its record saw, file by file.

        A build only notices changes that move a folder's mtime (see ``engine``); this also
        finds a tile rewritten in place.
        """
        for key, fingerprint in recorded.items():
            folder = self.sources / key
            if not folder.is_dir():
                continue
            for name in changed_files(folder, fingerprint):
                what = "removed" if not (folder / name).exists() else "added" if name not in fingerprint else "modified"
                self.problem(folder / name, f"was {what} after {key} was published (put changes in a new version)")

    def _image_facts(self, records: list[dict], sources: dict) -> tuple:
        """Spec, grid, format objects and the owners every version must have, from the records alone."""
        latest = records[-1]
        spec = PyramidSpec(**latest["spec"])
        grid = Grid(spec.width, spec.height, spec.tile_size)
        formats = [registry().get("format", name) for name in latest["formats"]]
        for number, record in enumerate(records):
            for key in ("spec", "resampler", "formats"):
                if record[key] != latest[key]:
                    self.problem(self._record_path(number), f"{key} differs from the latest record's")
        vacuumed = {n for n, r in enumerate(records) if r.get("vacuumed")}
        expected = kept_owners(grid, base_changes(grid, sources, len(records)), vacuumed)
        return spec, grid, formats, expected

    def _record_path(self, number: int) -> Path:
        return self.dest / STATE_DIR / f"v{number}.json"

    def _check_version(self, version: "Version") -> None:
        check_version(self, version)


@dataclass
class Version:
    """One published version of an image, as its record describes it."""

    number: int
    spec: PyramidSpec
    grid: object
    formats: list
    owners: list
    sources: dict  # "v{k}" -> fingerprint of the source folder at publish time
    resampler: str
    overlap_owners: list | None = None  # with overlap: who holds each published (widened) tile


def _leftover(name: str) -> str | None:
    if PARTIAL_MARK in name:
        return "left by an interrupted build or vacuum; the next run removes it"
    if name.endswith(".pending.json"):
        return "pending record of an interrupted build; the next build commits or removes it"
    if name == JOURNAL:
        return "journal of an interrupted vacuum; run dzbuild vacuum (or a build) to finish it"
    return None


def _numbered(name: str, suffix: str) -> int | None:
    """``n`` for ``v{n}{suffix}`` (a record or a sources file), else None."""
    return version_number(name[: -len(suffix)]) if name.endswith(suffix) else None
