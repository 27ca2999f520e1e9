"""``dzbuild vacuum``: remove intermediate versions of an image to save space; the others stay whole.

A tile of a kept version may be physically held by a removed one. Ownership then passes to the
first kept version that uses the tile: with hard links or copies that version already has the
bytes, with symbolic links its link is replaced by the file itself (a hard link to it, or a copy)
and later kept versions are re-pointed to it, so a link never points at a link. The records of
the kept versions get the new owners, so later builds link to files that exist.

Crash safety: the versions to remove are written to ``.dzbuild/vacuum.json`` first; every step
after that is idempotent (links are replaced with ``os.replace``, records rewritten atomically,
folders renamed aside before they are deleted, newest first so no visible version ever has a
broken link) and a later ``dzbuild vacuum`` or build finishes an interrupted vacuum.

Source folders are left alone (``dest`` must stay rebuildable from them) and the records of
removed versions stay, marked ``"vacuumed"``, so a later build does not publish them again.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError, ConfigError
from ..grid import Grid, Tile
from ..io.files import PARTIAL_MARK, remove_path, retract
from ..io.lock import locked
from ..plugins import registry
from .formats import DEFAULT_FORMATS
from .packing import packing
from .planner import plan_version
from .sources import version_number
from .spec import PyramidSpec
from .state import SCHEMA, STATE_DIR, State, encode_owners, write_json_atomic
from .state import VACUUM_JOURNAL as JOURNAL

_TILE = re.compile(r"^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)\.[A-Za-z0-9]+$")


@dataclass
class VacuumReport:
    dest: str
    removed: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    entries_removed: int = 0  # tiles, links and descriptors deleted
    files_freed: int = 0  # of which the last link to a file, so its bytes are freed
    bytes_freed: int = 0  # disk blocks freed (files, links and folders)
    moved: int = 0  # physical files handed to a kept version (symbolic-link storage only)
    relinked: int = 0  # symbolic links re-pointed at a moved file
    dry_run: bool = False

    def summary(self) -> dict:
        return dict(vars(self))


# -- Pure: which owners the kept versions must have ---------------------------------------------


def base_changes(grid: Grid, sources: dict, count: int) -> list[set[Tile]]:
    """The base tiles each version's source folder provided, from the fingerprints in a record."""
    changes = []
    for number in range(count):
        tiles = set()
        for name in sources[f"v{number}"]:
            match = _TILE.match(name)
            if not match:
                raise ValueError(f"v{number} lists {name!r}, which is not a tile name")
            tiles.add(Tile(grid.max_level, int(match.group(1)), int(match.group(2))))
        changes.append(tiles)
    return changes


def kept_owners(grid: Grid, changes: list[set[Tile]], vacuumed: set[int]) -> list:
    """The owners table of every version (None for vacuumed ones): the planner's, except that a
    computed tile owned by a vacuumed version belongs to the first kept version after it."""
    first_kept, later = [], len(changes)
    for number in reversed(range(len(changes))):
        later = later if number in vacuumed else number
        first_kept.append(later)
    first_kept.reverse()
    result, owners = [], None
    for number, changed in enumerate(changes):
        owners = plan_version(grid, number, changed, owners).owners
        if number in vacuumed:
            result.append(None)
            continue
        top = grid.max_level
        result.append(tuple(lv if i == top else tuple(first_kept[o] for o in lv) for i, lv in enumerate(owners)))
    return result


# -- Running it ---------------------------------------------------------------------------------


def vacuum(
    image_dir: Path | str,
    dest: Path | str | None = None,
    remove: str | None = None,
    keep: str | None = None,
    dry_run: bool = False,
) -> VacuumReport:
    """Remove the chosen versions of an image's ``dest``; every kept version stays valid throughout.

    ``remove`` or ``keep`` name versions as ``dzbuild vacuum`` does (``"v1..v3"``, ``"v0,v4"``). Returns a
    ``VacuumReport``: ``removed``, ``kept``, the entries, files and bytes freed, and ``summary()``.
    """
    dest = Path(dest) if dest is not None else Path(image_dir) / "dest"
    if not (dest / STATE_DIR / "v0.json").is_file():
        raise ConfigError("has no published version to vacuum", dest)
    with locked(dest):
        state = State(dest)
        finish_interrupted(dest)
        records = _records(state)
        chosen = select(records, remove, keep, dest)
        plan = _Vacuum(dest, records, chosen)  # every refusal comes before the journal: it changes nothing
        if dry_run or not chosen:
            return plan.measure(dry_run)
        plan.check_files()
        write_journal(state.dir / JOURNAL, chosen, len(records))
        report = plan.run()
        (state.dir / JOURNAL).unlink()
    return report


def finish_interrupted(dest: Path) -> VacuumReport | None:
    """Recover from a crash (of a build or a vacuum) in ``dest``; the caller holds the lock."""
    state = State(dest)
    if not state.dir.is_dir():
        return None
    records = _records(state) if state.published_count() else []
    formats = records[-1]["formats"] if records else DEFAULT_FORMATS
    state.recover(lambda n: [dest / name / f"v{n}" for name in formats])
    journal = state.dir / JOURNAL
    if not journal.exists():
        return None
    records = _records(state)
    report = _Vacuum(dest, records, read_journal(journal, len(records))).run()
    journal.unlink()
    return report


def _records(state: State) -> list[dict]:
    return [state.record(n) for n in range(state.published_count())]


class _Vacuum:
    """One vacuum of one ``dest``: the owners the kept versions get, then the steps that give them."""

    def __init__(self, dest: Path, records: list[dict], chosen: set[int]) -> None:
        self.dest, self.records, self.chosen = dest, records, chosen
        latest = records[-1]
        self.spec = PyramidSpec(**latest["spec"])
        if self.spec.overlap:
            raise ConfigError("cannot vacuum an image with overlap yet (its core tiles are not handled)", dest)
        self.grid = self.spec.grid
        self.formats = [registry().get("format", name) for name in latest["formats"]]
        packed = [fmt.name for fmt in self.formats if packing(fmt) is not None]
        if packed:  # a later version's index points into the archives of the versions before it
            raise ConfigError(f"cannot vacuum an image published as packs ({', '.join(packed)}) yet: later"
                              " versions read their unchanged tiles from earlier versions' archives", dest)
        vacuumed = {n for n, r in enumerate(records) if r.get("vacuumed")} | chosen
        self.kept = [n for n in range(len(records)) if n not in vacuumed]
        changes = base_changes(self.grid, State(dest).all_sources(len(records)), len(records))
        self.targets = kept_owners(self.grid, changes, vacuumed)
        self.report = VacuumReport(str(dest), sorted(chosen), self.kept)

    def run(self) -> VacuumReport:
        state = State(self.dest)
        for number in self.kept:  # oldest first: a file moves into a version before later ones link to it
            moved = self._moved(number)
            if moved:
                self._relink(number, moved)
                owners = encode_owners(self.targets[number])
                record = {**self.records[number], "schema": SCHEMA, "owners": owners}
                write_json_atomic(state.record_path(number), record)
        self._measure_removed(moved_files=set())
        for number in sorted(self.chosen, reverse=True):  # newest first: no visible version loses a link target
            record = {k: v for k, v in self.records[number].items() if k != "owners"}
            write_json_atomic(state.record_path(number), {**record, "vacuumed": True})
            retract([self.version_dir(fmt, number) for fmt in self.formats])
        return self.report

    def check_files(self) -> None:
        """Every file a kept version must take over is there: a vacuum never starts what it cannot finish."""
        primary = self.formats[0]
        for number in self.kept:
            for tile in self._moved(number):
                entry = self.entry(primary, number, tile)
                if entry.is_symlink() and not entry.exists():
                    raise BuildError(
                        "is a broken link (was a tile deleted by hand?); nothing was removed."
                        " Run dzbuild check, then rebuild the image with --rebuild",
                        entry,
                    )

    def measure(self, dry_run: bool) -> VacuumReport:
        """What ``run`` would free, without changing anything."""
        self.report.dry_run = dry_run
        moving = set()
        for number in self.kept:
            for tile in self._moved(number):
                entry = self.entry(self.formats[0], number, tile)
                if self.targets[number][tile.level][self.grid.index(tile)] == number and entry.is_symlink():
                    moving.add(_inode(os.stat(entry)))
        self._measure_removed(moving)
        return self.report

    def version_dir(self, fmt, number: int) -> Path:
        return self.dest / fmt.name / f"v{number}"

    def entry(self, fmt, number: int, tile: Tile) -> Path:
        return self.version_dir(fmt, number) / fmt.tile_path(self.grid, tile, self.spec.format)

    def _moved(self, number: int) -> list[Tile]:
        """Computed tiles of a kept version whose owner changes."""
        current, target = State.owners_of(self.records[number]), self.targets[number]
        return [
            tile
            for level in range(self.grid.max_level)
            if list(current[level]) != list(target[level])
            for tile in self.grid.tiles(level)
            if current[level][self.grid.index(tile)] != target[level][self.grid.index(tile)]
        ]

    def _relink(self, number: int, tiles: list[Tile]) -> None:
        primary = self.formats[0]
        for tile in tiles:
            owner = self.targets[number][tile.level][self.grid.index(tile)]
            for fmt in self.formats:
                rel = fmt.tile_path(self.grid, tile, self.spec.format)
                if rel is None:
                    continue
                entry = self.version_dir(fmt, number) / rel
                if not entry.is_symlink():
                    continue  # a hard link or a copy already holds the bytes
                tmp = self.scratch(fmt, number) / rel
                if fmt is primary and owner == number:
                    _materialize(entry, tmp)
                    self.report.moved += 1
                elif _repoint(entry, self.entry(primary, owner, tile), tmp):
                    self.report.relinked += 1
        for fmt in self.formats:
            remove_path(self.scratch(fmt, number))

    def scratch(self, fmt, number: int) -> Path:
        """Beside the version folder, never inside it: a relative link made there is valid in it."""
        return self.dest / fmt.name / f".v{number}{PARTIAL_MARK}vacuum"

    def _measure_removed(self, moved_files: set) -> None:
        links: dict[tuple, list] = {}
        for number in self.chosen:
            for fmt in self.formats:
                for parent, _dirs, files in os.walk(self.version_dir(fmt, number)):
                    self.report.bytes_freed += os.lstat(parent).st_blocks * 512
                    for name in files:
                        st = os.lstat(os.path.join(parent, name))
                        self.report.entries_removed += 1
                        links.setdefault(_inode(st), []).append(st)
        for key, seen in links.items():
            st = seen[0]
            if len(seen) == st.st_nlink and key not in moved_files:
                self.report.files_freed += 0 if stat.S_ISLNK(st.st_mode) else 1
                self.report.bytes_freed += st.st_blocks * 512


def _inode(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _materialize(entry: Path, tmp: Path) -> None:
    """Replace a symbolic link by the file it points at (the hard-link storage's link, or a copy), in one step."""
    _place(entry, tmp, "hardlink", os.path.realpath(entry))


def _repoint(entry: Path, physical: Path, tmp: Path) -> bool:
    """Point a symbolic link at ``physical`` (the symbolic-link storage's link), in one step."""
    if os.readlink(entry) == os.path.relpath(physical, entry.parent):
        return False
    _place(entry, tmp, "symlink", str(physical))
    return True


def _place(entry: Path, tmp: Path, storage: str, target: str) -> None:
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    registry().get("storage", storage).link(target, str(tmp))
    os.replace(tmp, entry)

# -- Which versions a vacuum removes ---------------------------------------------------------------
# From the command line (``--remove``, ``--keep``), and from the journal of a running vacuum
# (``dest/.dzbuild/vacuum.json``) for the next run to finish. Both come from outside, so both are
# validated before anything is deleted: a damaged or forged journal could otherwise name every version.


def write_journal(journal: Path, remove: set[int], count: int) -> None:
    """Record the versions to remove and how many versions there were (the journal's key to its records)."""
    write_json_atomic(journal, {"remove": sorted(remove), "versions": count})


def read_journal(journal: Path, count: int) -> set[int]:
    """The versions a journal says to remove, refused unless they fit the records it was written for.

    A damaged or forged journal must never be obeyed: it could name every version.
    """
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        remove, versions = data["remove"], data.get("versions", count)
        valid = type(versions) is int and all(type(n) is int for n in remove) and len(set(remove)) == len(remove)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        valid = False
    if not valid or versions != count or not remove or not all(0 <= n < count - 1 for n in remove):
        raise BuildError(
            f"is not the journal of a vacuum of these {count} versions; nothing was removed. Delete it"
            " if no vacuum was running, then check the folder (dzbuild check)",
            journal,
        )
    return set(remove)


def select(records: list[dict], remove: str | None, keep: str | None, where: Path) -> set[int]:
    """The versions to remove, from ``--remove v1..v3`` or ``--keep v0,v4`` (the latest is always kept)."""
    if (remove is None) == (keep is None):
        raise ConfigError("say which versions to remove (--remove v1..v3) or to keep (--keep v0,v4)", where)
    latest = len(records) - 1
    wanted = _parse_versions(remove if remove is not None else keep, latest, where)
    if keep is not None:
        chosen = set(range(latest)) - wanted
    elif latest in wanted:
        raise ConfigError(f"v{latest} is the latest version: vacuum always keeps it", where)
    else:
        chosen = wanted
    return {n for n in chosen if not records[n].get("vacuumed")}


def _parse_versions(text: str, latest: int, where: Path) -> set[int]:
    chosen: set[int] = set()
    for part in text.replace(" ", "").split(","):
        shown = part if len(part) <= 40 else part[:40] + "..."  # 5,000 digits are not worth echoing
        ends = [version_number(end if end.startswith("v") else f"v{end}") for end in part.split("..")]
        if len(ends) > 2 or None in ends:
            raise ConfigError(f"{shown!r} is not a version or range (v2, v1..v3)", where)
        first, last = ends[0], ends[-1]
        if first > last or last > latest:
            raise ConfigError(f"{shown!r}: published versions are v0..v{latest}", where)
        chosen |= set(range(first, last + 1))
    return chosen
