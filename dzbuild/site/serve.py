"""The preview server of ``dzbuild serve``: the output folder over HTTP, as the host would serve it.

It answers with the ``_headers`` rules and the ``_redirects`` lines of the output applied (every
matching header rule, values of one header joined, as Cloudflare Pages does), so caching and the
``latest`` aliases behave as they will once deployed. It serves the output folder and nothing
else: a path with a ``.`` or ``..`` segment (percent-encoded or not) is refused, and a symbolic
link is followed only when it ends inside the output or dzbuild's cache (a version the preview
has published but not yet linked into the output is read from the cache). Served HTML pages get a
small script that reloads them after each rebuild (server-sent events); files on disk never do.
A preview, not a production server: one machine, 127.0.0.1 only.
"""

from __future__ import annotations

import http.server
import mimetypes
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .headers import parse_rules, rule_regex

LIVE_PATH = "_dzbuild/live"  # below dzbuild's own folder of the output: never a file
CONTROL_FILES = ("_headers", "_redirects")  # read by the host, never served
TYPES = {".dzi": "application/xml", ".dzc": "application/xml", ".xml": "application/xml", ".webp": "image/webp"}
RELOAD_SCRIPT = (
    '<script>(function(){{var s=new EventSource("{url}?since={generation}");'
    's.addEventListener("reload",function(){{s.close();location.reload();}});}})();</script>'
)


class LiveReload:
    """A build counter that waiting page connections watch; each rebuild bumps it."""

    def __init__(self) -> None:
        self.generation = 0
        self.closed = False
        self._changed = threading.Condition()

    def bump(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait(self, since: int, timeout: float) -> int:
        """The generation once it passes ``since`` (or after ``timeout``, for a keep-alive)."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation > since or self.closed, timeout)
            return self.generation


@dataclass(frozen=True)
class Redirect:
    pattern: re.Pattern
    target: str
    status: int


def parse_redirects(text: str) -> list[Redirect]:
    """``FROM TO [STATUS]`` lines; ``*`` in FROM becomes ``:splat`` in TO, ``:name`` one segment."""
    found = []
    for raw in text.splitlines():
        fields = raw.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        status = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 302
        pattern = "(?P<splat>.*)".join(re.escape(part) for part in fields[0].split("*"))
        pattern = re.sub(r":([A-Za-z]\w*)", r"(?P<\1>[^/]+)", pattern)
        found.append(Redirect(re.compile(f"^{pattern}$"), fields[1], status))
    return found


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


def headers_for(text: str, path: str) -> list[tuple[str, str]]:
    """Every rule of a ``_headers`` file that matches ``path`` applies; one header's values are joined."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for rule in parse_rules(text):
        if rule_regex(rule.path).match(path):
            for name, value in rule.headers:
                merged.setdefault(name.lower(), (name, []))[1].append(value)
    return [(name, ", ".join(values)) for name, values in merged.values()]


def resolve(output: Path, allowed: tuple[Path, ...], rel: str) -> Path | None:
    """The file or folder that the decoded URL path ``rel`` (below the output) names, or None if refused."""
    parts = rel.split("/")
    if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
        return None
    candidate = output.joinpath(*[part for part in parts if part])
    real = os.path.realpath(candidate)
    roots = [os.path.realpath(root) for root in allowed]
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        return None  # a symbolic link leading out of the output and the cache
    return candidate


class PreviewHandler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD on the output folder; ``server`` carries ``output``, ``allowed``, ``base`` and ``live``."""

    server_version = "dzbuild-preview"
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        path = urlsplit(self.path).path
        base = self.server.base
        if path + "/" == base:
            return self._redirect(base, 302)
        if not path.startswith(base):
            return self._error(404)
        if path[len(base) :] == LIVE_PATH:
            return self._live()
        redirect = redirect_for(parse_redirects(self._control("_redirects")), path)
        if redirect is not None and redirect[1] != 200:
            return self._redirect(*redirect)
        if redirect is not None:  # a 200 rewrite: serve the target's file under this URL
            path = redirect[0]
        self._send_file(path, body)

    def _send_file(self, path: str, body: bool) -> None:
        try:
            rel = unquote(path[len(self.server.base) :], errors="strict")
        except UnicodeDecodeError:
            return self._error(404)
        target = resolve(self.server.output, self.server.allowed, rel) if path.startswith(self.server.base) else None
        if target is None:
            return self._error(403)
        if rel in CONTROL_FILES:
            return self._error(404)
        if not target.exists():
            target = self._being_linked(rel)
            if target is None:
                return self._error(404)
        if target.is_dir():
            if not path.endswith("/"):
                return self._redirect(path + "/", 301)
            target = target / "index.html"
            if not target.is_file():
                return self._error(404)
        data = target.read_bytes()
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            data = self._with_reload(data)
            kind += "; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers_for(self._control("_headers"), path):
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _being_linked(self, rel: str) -> Path | None:
        """A file of a version published in the cache but not yet linked into the output.

        The preview reloads pages as soon as a version is published and links it into the output
        right after; until then its files (the same ones) come from the cache tree, whose layout
        is the output's. Hidden names (the build state) are never served.
        """
        if any(part.startswith(".") for part in rel.split("/")):
            return None
        candidate = resolve(self.server.pending, self.server.allowed, rel)
        return candidate if candidate is not None and candidate.is_file() else None

    def _with_reload(self, page: bytes) -> bytes:
        script = RELOAD_SCRIPT.format(url=self.server.base + LIVE_PATH, generation=self.server.live.generation)
        at = page.rfind(b"</body>")
        at = len(page) if at < 0 else at
        return page[:at] + script.encode() + page[at:]

    def _live(self) -> None:
        """Server-sent events: a ``reload`` event once a build newer than the page's is published."""
        query = urlsplit(self.path).query
        since = int(m.group(1)) if (m := re.search(r"since=(\d+)", query)) else self.server.live.generation
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            while not self.server.live.closed:
                generation = self.server.live.wait(since, timeout=15)
                if generation > since:
                    self.wfile.write(f"event: reload\ndata: {generation}\n\n".encode())
                    self.wfile.flush()
                    return
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except OSError:  # the page went away
            return

    def _control(self, name: str) -> str:
        try:
            return (self.server.output / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    def _redirect(self, location: str, status: int) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _error(self, status: int) -> None:
        data = f"{status} {http.HTTPStatus(status).phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the rebuild lines are what the author watches


class PreviewServer(http.server.ThreadingHTTPServer):
    """Bound at construction (so a taken port fails before any build); ``serve_forever`` in a thread."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A page that went away mid-answer (a reload, a closed tab) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self, port: int, output: Path, cache: Path, base: str) -> None:
        self.output, self.allowed, self.base = output, (output, cache), base
        self.pending = cache / "tree"  # the site build's pyramids, laid out as the output is
        self.live = LiveReload()
        super().__init__(("127.0.0.1", port), PreviewHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{self.base}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="dzbuild-serve", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.live.close()
        if getattr(self, "_thread", None) is not None:  # shutdown() waits for a loop that must be running
            self.shutdown()
            self._thread = None
        self.server_close()
