"""How a configuration key is declared: a dataclass field that knows its TOML type, default, check and doc.

``schema`` declares the site's keys with ``key()`` and ``table()``; ``tables.read_table`` reads a
file through ``keys_of``/``tables_of``, and ``configdoc`` writes the reference page from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, Literal

KEY = "dzbuild.key"  # the field metadata that makes a field a configuration key
TABLE = "dzbuild.table"  # ... or a table of keys

# "value": as read (lists become tuples); "path": below the site root; "control": true (the
# output's own file), a path below the site root, or false (none)
Loaded = Literal["value", "path", "control"]


@dataclass(frozen=True)
class Key:
    """How one key is read from TOML and described on the reference page."""

    doc: str  # one line, Markdown
    toml: tuple[type, ...]  # the TOML types accepted
    default: object  # as it would be written in the file; None: not set
    example: object  # a value that works, shown on the reference page and driven by the tests
    check: Callable[[object], str | None] | None = None  # the problem, worded to follow the key's name
    shown: str | None = None  # the default in words, when dzbuild works it out ("every core")
    load: Loaded = "value"
    required: bool = False


@dataclass(frozen=True)
class Table:
    """A table of keys in the file (``[viewer]``), or an array of tables (``[[collections]]``)."""

    name: str  # its name in the file
    keys: type  # the dataclass declaring its keys
    array: bool = False

    @property
    def heading(self) -> str:
        return f"[[{self.name}]]" if self.array else f"[{self.name}]"


def key(default, doc: str, *, example, toml=None, check=None, choices=None, shown=None, load="value", required=False):
    """A dataclass field that is a configuration key; its Python default follows from ``default``.

    ``choices`` is the usual check (one of these strings). A ``path`` with a default (the output)
    is required in Python: only the site root gives it meaning. A ``control`` file is ``True``
    (in the output), a path or ``false`` in the file; a configuration built in code writes none.
    """
    if choices is not None:
        check = one_of(choices)
    kinds = toml if isinstance(toml, tuple) else (toml or type(default),)
    spec = Key(doc, kinds, default, example, check, shown, load, required)
    meta = {KEY: spec}
    if required or (load == "path" and default is not None):
        return field(metadata=meta)
    if load == "control":
        return field(default=None, metadata=meta)
    if isinstance(default, (list, dict)):
        made = tuple if isinstance(default, list) else dict
        return field(default_factory=lambda: made(default), metadata=meta)
    return field(default=default, metadata=meta)


def table(keys: type, name: str, *, array: bool = False, as_dict: bool = False):
    """A dataclass field holding a table of keys, declared by the dataclass ``keys`` (whose docstring describes it).

    ``array``: a tuple of them; ``as_dict``: only the values the file gives, by key.
    """
    factory = tuple if array else dict if as_dict else keys
    return field(default_factory=factory, metadata={TABLE: Table(name, keys, array)})


def keys_of(cls) -> dict[str, Key]:
    """The keys a table's dataclass declares, in order."""
    return {f.name: f.metadata[KEY] for f in fields(cls) if KEY in f.metadata}


def tables_of(cls) -> dict[str, Table]:
    """The tables a dataclass holds, by their name in the file."""
    return {f.metadata[TABLE].name: f.metadata[TABLE] for f in fields(cls) if TABLE in f.metadata}


# -- Checks many keys share: each returns what is wrong, worded to follow the key's quoted name ---


def one_of(choices) -> Callable[[object], str | None]:
    def check(value):
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


def at_least(low: int) -> Callable[[object], str | None]:
    def check(value):
        return None if value >= low else f"must be at least {low}, got {value}"

    return check
