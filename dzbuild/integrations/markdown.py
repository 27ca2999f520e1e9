"""Find Markdown images whose target is an image folder; leave every other byte of the page alone.

Fenced code blocks and inline code spans are skipped, so a page can show the syntax it documents.
"""

from __future__ import annotations

import posixpath
import re
from typing import Callable
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A code span (left as it is) or an image: ![alt](target "optional title")
INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|!\[(?P<alt>[^\]\n]*)\]\(\s*<?(?P<target>[^\s()<>]+)>?(?:\s+[\"'](?P<title>[^\"'\n]*)[\"'])?\s*\)"
)


def replace_images(markdown: str, embed: Callable[[str, str, str | None], str | None]) -> str:
    """Replace ``![alt](target "title")`` by ``embed(target, alt, title)`` where that returns HTML.

    An image alone on its line becomes a block of raw HTML (blank lines around it, its indent
    kept); ``embed`` returns None for targets that are not image folders, which stay as written.
    """
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        else:
            line = _replace_line(line, embed)
        out.append(line)
    return "".join(out)


def _replace_line(line: str, embed) -> str:
    blocks: list[str] = []

    def one(match: re.Match) -> str:
        html = None if match.group("code") else embed(match.group("target"), match.group("alt"), match.group("title"))
        if html is None:
            return match.group(0)
        blocks.append(html)
        return f"\0{len(blocks) - 1}\0"

    replaced = INLINE.sub(one, line)
    if not blocks:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    out = []
    for i, piece in enumerate(re.split("\0(\\d+)\0", replaced.rstrip("\n"))):
        if i % 2:
            out.append("\n".join(indent + row for row in blocks[int(piece)].splitlines()))
        elif piece.strip():
            out.append(piece.rstrip() if i == 0 else indent + piece.strip())
    return "\n\n".join(out) + "\n"


def resolve(target: str, page_dir: str) -> str | None:
    """The posix path a page's link points at, below the docs root; None for URLs and paths above it."""
    if "://" in target or target.startswith(("#", "mailto:", "data:")):
        return None
    target = unquote(target.split("#", 1)[0].split("?", 1)[0])
    path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(page_dir, target))
    return None if path == ".." or path.startswith("../") else path.strip("/")


def page_url_dir(url: str) -> str:
    """The folder of a page's URL (``guide/`` or ``guide.html`` both give ``guide`` and ``""``)."""
    return url.rstrip("/") if url.endswith("/") or not url else posixpath.dirname(url)


def relative_url(from_dir: str, to: str) -> str:
    """A relative URL from the folder ``from_dir`` to the output path ``to`` (both posix, "" the root)."""
    rel = posixpath.relpath(to or ".", from_dir or ".")
    return "" if rel == "." else rel
