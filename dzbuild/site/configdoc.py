"""The configuration reference page, written from the declaration in ``schema``.

``python -m dzbuild.site.configdoc > docs/configuration.md`` regenerates it; a test fails when
the committed page differs from what this module writes, so the page never drifts from the code.
"""

from __future__ import annotations

import inspect
import json
import re

from .keys import Key, keys_of, tables_of
from .schema import SiteConfig

HEADER = """\
# Configuration reference

<!-- Written by `python -m dzbuild.site.configdoc > docs/configuration.md` from dzbuild/site/schema.py:
     change the declaration there, not this page. -->

A site is configured by `dzbuild.toml` at its root, or by a `[tool.dzbuild]` table in its
`pyproject.toml` (read with the standard library's `tomllib`). Every key is optional unless it says
*required*, and paths are relative to the site root. An unknown key, a value of the wrong type or
a value that cannot work stops the build with one line naming the key and the file (exit code 2);
a misspelled key gets the closest known one as a hint.
"""

TYPE_WORDS = {str: "string", int: "integer", bool: "boolean", list: "list of strings", dict: "table"}


def toml_value(value) -> str:
    """``value`` written as TOML: strings, integers, booleans, lists of strings and inline tables."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(value, ensure_ascii=False)


def markdown(docstring: str | None) -> str:
    """A class docstring as one Markdown paragraph: ``code`` becomes `code`."""
    return re.sub(r"\s+", " ", inspect.cleandoc(docstring or "")).replace("``", "`")


def row(name: str, spec: Key) -> str:
    kind = " or ".join(TYPE_WORDS[t] for t in spec.toml)
    if spec.required:
        default = "*required*"
    elif spec.shown is not None:
        default = spec.shown
    else:
        default = "none" if spec.default is None else f"`{toml_value(spec.default)}`"
    cells = [f"`{name}`", kind, default, f"`{toml_value(spec.example)}`", spec.doc]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def section(title: str, cls) -> list[str]:
    lines = ["", f"## {title}", "", markdown(cls.__doc__), "", "| key | type | default | example | meaning |"]
    lines.append("| --- | --- | --- | --- | --- |")
    lines.extend(row(name, spec) for name, spec in keys_of(cls).items())
    return lines


def render() -> str:
    """The whole page."""
    lines = [HEADER.rstrip("\n"), *section("Top level", SiteConfig)]
    for spec in tables_of(SiteConfig).values():
        lines.extend(section(f"`{spec.heading}`", spec.keys))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
