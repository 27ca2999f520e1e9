"""The output's ``_headers`` and ``_redirects`` as the preview applies them, read again only when they change.

A line the preview cannot apply the way the hosts would is skipped with one warning naming the
file and the line, so one bad line never breaks the other requests: in ``_redirects`` two splats,
a placeholder named twice, a status other than Cloudflare Pages' 200, 301, 302, 303, 307 and 308,
a source that is not a path, a proxy to another origin; in ``_headers`` a header name or value
that HTTP cannot carry.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .headers import parse_rules, rule_regex
from .servefiles import open_regular

STATUSES = (200, 301, 302, 303, 307, 308)  # Cloudflare Pages' set; Netlify's 404/410 rewrites are not previewed
PLACEHOLDER = re.compile(r":([A-Za-z]\w*)")
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP field name (RFC 9110)


@dataclass(frozen=True)
class Redirect:
    pattern: re.Pattern
    target: str
    status: int


class RedirectProblem(ValueError):
    """Why one ``_redirects`` line cannot be applied; the preview skips the line."""


def parse_redirect(fields: list[str]) -> Redirect:
    """``FROM TO [STATUS]``: ``*`` in FROM becomes ``:splat`` in TO, ``:name`` matches one segment."""
    if len(fields) < 2:
        raise RedirectProblem("a source without a target")
    if len(fields) > 3:
        raise RedirectProblem(f"{len(fields)} fields where FROM TO [STATUS] has at most 3")
    source, target = fields[:2]
    status = _status(fields[2]) if len(fields) > 2 else 302
    if not source.startswith("/"):
        raise RedirectProblem(f"the source {_shown(source)} is not a path")
    if status == 200 and "://" in target:
        raise RedirectProblem("a 200 rewrite to another origin (a proxy)")
    names = PLACEHOLDER.findall(source) + ["splat"] * source.count("*")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        what = "more than one splat (*)" if "splat" in repeated else f"the placeholder :{repeated[0]} twice"
        raise RedirectProblem(f"{what} in the source")
    pattern = "(?P<splat>.*)".join(re.escape(part) for part in source.split("*"))
    pattern = PLACEHOLDER.sub(r"(?P<\1>[^/]+)", pattern)
    try:
        return Redirect(re.compile(f"^{pattern}$"), target, status)
    except re.error as exc:  # what the checks above did not foresee
        raise RedirectProblem(f"the source cannot be matched ({exc})") from None


def _status(text: str) -> int:
    code = text.rstrip("!")  # Netlify's "force" mark; the preview always applies the rule
    if code not in map(str, STATUSES):
        raise RedirectProblem(f"status {_shown(text)} is not one of {', '.join(map(str, STATUSES))}")
    return int(code)


def _shown(text: str, limit: int = 40) -> str:
    """A field quoted in a warning, shortened: the warning stays one readable line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_redirects(text: str) -> tuple[list[Redirect], list[tuple[int, str]]]:
    """The lines that can be applied, and (line number, why) for those that cannot."""
    found, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        comment = next((i for i, field in enumerate(fields) if field.startswith("#")), len(fields))
        fields = fields[:comment]  # a comment starts a line or follows a space; /to#part keeps its #
        if not fields:
            continue
        try:
            found.append(parse_redirect(fields))
        except RedirectProblem as exc:
            problems.append((number, str(exc)))
    return found, problems


def redirect_for(redirects: list[Redirect], path: str) -> tuple[str, int] | None:
    """The first line matching ``path``: its target with the captured parts filled in, and its status."""
    for redirect in redirects:
        match = redirect.pattern.match(path)
        if match:
            target = redirect.target
            for name, value in sorted(match.groupdict().items(), key=lambda item: -len(item[0])):
                target = target.replace(f":{name}", value)
            return target, redirect.status
    return None


HeaderRule = tuple[re.Pattern, list[tuple[str, str]]]


def parse_header_rules(text: str) -> tuple[list[HeaderRule], list[tuple[int, str]]]:
    """The rules, and (line number, why) for each header line that HTTP cannot carry (left out)."""
    lines, problems = text.splitlines(), []
    for number, raw in enumerate(lines, 1):
        why = _header_line_problem(raw)
        if why:
            problems.append((number, why))
            lines[number - 1] = ""
    return [(rule_regex(rule.path), rule.headers) for rule in parse_rules("\n".join(lines))], problems


def _header_line_problem(raw: str) -> str | None:
    line = raw.strip()
    if not raw[:1].isspace() or ":" not in line or line.startswith(("#", "!")):
        return None  # a path, a comment, a detach line or nothing: parse_rules' business
    name, _, value = line.partition(":")
    if not TOKEN.fullmatch(name.strip()):
        return f"{_shown(name.strip())} is not an HTTP header name"
    if not value.strip().isprintable() or not _latin1(value):
        return f"the value of {name.strip()} holds characters an HTTP header cannot carry"
    return None


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def headers_for(rules: list[HeaderRule], path: str) -> list[tuple[str, str]]:
    """Every rule that matches ``path`` applies; the values of one header are joined, as Cloudflare Pages does."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for pattern, headers in rules:
        if pattern.match(path):
            for name, value in headers:
                merged.setdefault(name.lower(), (name, []))[1].append(value)
    return [(name, ", ".join(values)) for name, values in merged.values()]


class ControlFiles:
    """The parsed rules of one ``_headers`` and one ``_redirects`` file, cached until a file changes.

    ``warn`` hears each problem once (the first time a line is found wrong), not once per request.
    """

    def __init__(self, headers: Path, redirects: Path, warn: Callable[[str], None] = lambda message: None) -> None:
        self.headers_file, self.redirects_file, self.warn = headers, redirects, warn
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple | None, list]] = {}
        self._warned: set[str] = set()

    def headers(self) -> list[HeaderRule]:
        return self._rules(self.headers_file, parse_header_rules)

    def redirects(self) -> list[Redirect]:
        return self._rules(self.redirects_file, parse_redirects)

    def load(self) -> None:
        """Read both files now (at start and after a rebuild), so their warnings come out at once."""
        self.headers()
        self.redirects()

    def _rules(self, path: Path, parse: Callable[[str], tuple[list, list[tuple[int, str]]]]) -> list:
        with self._lock:
            signature = _signature(path)
            cached = self._cache.get(path)
            if cached is None or cached[0] != signature:
                found, problems = parse(_read_text(path)) if signature else ([], [])
                cached = (signature, found)
                self._cache[path] = cached
                self._warn_once(path, problems)
            return cached[1]

    def _warn_once(self, path: Path, problems: list[tuple[int, str]]) -> None:
        for number, why in problems:
            message = f"{path} line {number}: {why}; the preview skips this line"
            if message not in self._warned:
                self._warned.add(message)
                self.warn(message)


def _signature(path: Path) -> tuple | None:
    """What changes when the file is rewritten (dzbuild replaces it by renaming a new file over it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _read_text(path: Path) -> str:
    """The file's text; empty when it is not a readable regular UTF-8 file (a FIFO never blocks here)."""
    try:
        opened = open_regular(path)
        if opened is None:
            return ""
        with opened:
            return opened.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
