"""Making one version visible all at once, or not at all: the rule images and collections share.

A version's folders are assembled under temporary names beside their final ones, its pending
record is written, the folders are renamed into place, and only then is the record committed.
A crash at any point leaves either no trace that ``State.recover`` cannot clear, or a whole
published version; published versions are never touched again (CDNs cache them forever).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io.files import PARTIAL_MARK, remove_path, retract
from .state import State


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
