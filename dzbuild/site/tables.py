"""Reading TOML files and validating their tables against declared keys: one error per mistake.

Shared by the site configuration and by collection files; the keys, their types, defaults and
checks come from the dataclasses of ``schema``.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from ..errors import ConfigError
from ..io import userfiles
from .keys import keys_of, tables_of


def toml_loads(text: str):
    return tomllib.loads(text)


def read_toml(path: Path) -> dict:
    try:
        text = userfiles.read_text(path)
    except (OSError, ValueError) as exc:  # not a regular file, not UTF-8, permissions
        raise ConfigError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", path) from None
    try:
        return toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply", path) from None


def read_table(data: dict, cls, where: str, path) -> dict:
    """Every key ``cls`` declares (see ``schema``) with its value in ``data`` or its default, each checked.

    ``where`` prefixes the key in messages (``viewer.``, ``collections[0].``); a sub-table is
    left in the result as it was written, for its own reading.
    """
    keys, tables = keys_of(cls), {name: spec.heading for name, spec in tables_of(cls).items()}
    for name in data:
        if name not in keys and name not in tables:
            raise ConfigError(unknown_key(name, data[name], where, keys, tables), path)
    result = {name: data[name] for name in tables if name in data}
    for name, spec in keys.items():
        if name not in data:
            if spec.required:
                raise ConfigError(f"'{where}{name}' is required", path)
            result[name] = spec.default
            continue
        value = data[name]
        _check_type(value, spec.toml, f"{where}{name}", path)
        problem = spec.check(value) if spec.check else None
        if problem:  # "must be ..." follows the name after a space, ": ..." (a quoted reason) directly
            raise ConfigError(f"'{where}{name}'{'' if problem.startswith(':') else ' '}{problem}", path)
        result[name] = value
    return result


def unknown_key(key: str, value, where: str, keys: dict, tables: dict) -> str:
    """The message for a key nobody reads, with the closest known name when one is near (``[veiwer]``).

    ``tables`` maps sub-table names to how they are written (``[viewer]``); a table value is
    matched against them first.
    """
    is_table = isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict))
    close = difflib.get_close_matches(key, [*keys, *tables], n=1, cutoff=0.6)
    if is_table:
        close = difflib.get_close_matches(key, list(tables), n=1, cutoff=0.6) or close
    hint = f" (did you mean {tables.get(close[0], repr(where + close[0]))}?)" if close else ""
    known = ", ".join(keys) + (f"; tables: {', '.join(tables.values())}" if tables else "")
    return f"unknown key {where + key!r}{hint} (known keys: {known})"


def _check_type(value, kinds: tuple, name: str, path) -> None:
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}
        wanted = " or ".join(names[k] for k in kinds)
        raise ConfigError(f"{name!r} must be {wanted}, got {value!r}", path)
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{name!r} must be a list of strings, got {value!r}", path)
