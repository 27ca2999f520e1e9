"""The pack half of ``dzbuild check``: a packed version must be what packing its published tiles gives.

Packing is a pure function of the tiles and the index before, so the check packs again in memory
and compares file by file, instead of reading archives the way a viewer would.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..pyramid.packing import packed


def check_pack(checker, version, fmt, folder: Path) -> None:
    """A pack's files must be what packing the version's published tiles gives, and nothing else."""
    owners = version.overlap_owners if version.spec.overlap else version.owners
    expected = set()
    for rel, data in packed(checker.dest, version.spec, version.grid, version.formats, fmt, version.number, owners):
        expected.add(rel)
        path = folder / rel
        if not path.is_file():
            checker.problem(path, "is missing from the pack")
        elif path.read_bytes() != data:
            checker.problem(path, "differs from what packing the version's tiles gives")
    for parent, _, files in os.walk(folder):
        for name in files:
            rel = os.path.relpath(os.path.join(parent, name), folder).replace(os.sep, "/")
            if rel not in expected:
                checker.problem(Path(parent) / name, "unexpected: no tile or descriptor of this version")
