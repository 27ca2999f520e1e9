"""``_headers`` and ``_redirects`` read the way Cloudflare Pages and Netlify read them, for the tests.

Written from the hosts' documentation, independently of ``dzbuild.site.headers``:
- Cloudflare Pages: a rule is a path line, then indented ``Name: value`` (or ``! Name`` to remove)
  lines. ``*`` is a greedy splat (one per rule), ``:name`` matches one path segment, the whole
  path must match. Every matching rule applies, in file order; a header set by several rules is
  sent once with their values joined by ", ". At most 100 rules, 2,000 characters a line.
- Netlify: the same file format; a standalone ``*`` segment also matches the folder itself, a
  trailing slash is optional, matching ignores case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLOUDFLARE_MAX_RULES = 100
CLOUDFLARE_MAX_LINE = 2000


@dataclass
class HostRule:
    path: str
    set: list[tuple[str, str]] = field(default_factory=list)
    unset: list[str] = field(default_factory=list)


def parse_headers_file(text: str) -> list[HostRule]:
    rules: list[HostRule] = []
    for number, raw in enumerate(text.splitlines(), 1):
        assert len(raw) <= CLOUDFLARE_MAX_LINE, f"line {number} has {len(raw)} characters"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not raw[0].isspace():
            assert line.startswith(("/", "https://")), f"line {number} is not a path: {line!r}"
            assert line.count("*") <= 1, f"line {number} has more than one splat"
            rules.append(HostRule(line))
        elif line.startswith("! "):
            rules[-1].unset.append(line[2:].strip())
        else:
            name, colon, value = line.partition(":")
            assert colon and rules, f"line {number} is not 'Name: value' under a path"
            rules[-1].set.append((name.strip(), value.strip()))
    assert len(rules) <= CLOUDFLARE_MAX_RULES, f"{len(rules)} rules"
    return rules


def cloudflare_regex(path: str) -> re.Pattern:
    pattern = "(?P<splat>.*)".join(re.escape(part) for part in path.split("*"))
    pattern = re.sub(r":([A-Za-z]\w*)", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


def netlify_regex(path: str) -> re.Pattern:
    parts = []
    for part in [p for p in path.split("/") if p]:
        if part.startswith(":"):
            parts.append("([^/]+)")
        elif part == "*":
            parts.append("?(.*)")
        elif "*" in part:
            parts.append(part.replace("*", "(.*)"))
        else:
            parts.append(re.escape(part))
    return re.compile("^/" + "/".join(parts) + "/?$", re.IGNORECASE)


def response_headers(rules: list[HostRule], url_path: str, host: str = "cloudflare") -> dict[str, list[str]]:
    """Header name (lower case) -> the values of every matching rule that set it, in order."""
    compile_ = cloudflare_regex if host == "cloudflare" else netlify_regex
    headers: dict[str, list[str]] = {}
    for rule in rules:
        if not compile_(rule.path).match(url_path):
            continue
        for name in rule.unset:
            headers.pop(name.lower(), None)
        for name, value in rule.set:
            headers.setdefault(name.lower(), []).append(value)
    return headers


def parse_redirects_file(text: str) -> list[tuple[str, str, int]]:
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assert len(line) <= 1000, f"redirect line has {len(line)} characters"
        parts = line.split()
        result.append((parts[0], parts[1], int(parts[2]) if len(parts) > 2 else 302))
    return result


def follow_redirect(rules, url_path: str) -> tuple[str, int] | None:
    """Cloudflare: the first matching rule wins; ``:splat`` and placeholders are substituted."""
    for source, target, code in rules:
        match = cloudflare_regex(source).match(url_path)
        if match:
            for name, value in match.groupdict().items():
                target = target.replace(f":{name}", value)
            return target, code
    return None
