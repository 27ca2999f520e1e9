"""Reading TOML files and validating their tables against declared keys: one error per mistake.

Shared by the site configuration and by collection files; a key table maps each key to its
type(s) and default.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError


def toml_loads(text: str):
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def read_toml(path: Path) -> dict:
    try:
        return toml_loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path) from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"invalid TOML: {exc}", path) from None


def check_table(data: dict, keys: dict, where: str, path) -> dict:
    """Validate ``data`` against ``keys``; return every key with its value or default."""
    for key in data:
        if key not in keys:
            known = ", ".join(keys)
            raise ConfigError(f"unknown key {where + key!r} (known keys: {known})", path)
    result = {}
    for key, (kinds, default) in keys.items():
        value = data.get(key, default)
        if key in data:
            _check_type(value, kinds, f"{where}{key}", path)
        result[key] = value
    return result


def _check_type(value, kinds, name: str, path) -> None:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
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
