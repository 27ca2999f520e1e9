"""Which versions a vacuum removes: from the command line (``--remove``, ``--keep``), and from the
journal of a running vacuum (``dest/.dzbuild/vacuum.json``) for the next run to finish.

Both come from outside, so both are validated before anything is deleted: a damaged or forged
journal could otherwise name every version.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BuildError, ConfigError
from ..pyramid.sources import version_number
from ..pyramid.state import write_json_atomic


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
