"""The preview server of ``dzbuild serve``: the output folder over HTTP, as the host would serve it.

It answers with the ``_headers`` rules and the ``_redirects`` lines of the output applied (every
matching header rule, values of one header joined, as Cloudflare Pages does), so caching and the
``latest`` aliases behave as they will once deployed. It serves the output's regular files and
nothing else (``servefiles`` says which file a URL names); a version the preview has published
but not yet linked into the output is read from the cache. A single ``Range`` is answered with
206, as nginx and Netlify do, so packs read by range can be tried locally. Served HTML pages get
a small script that reloads them after each rebuild (server-sent events); files on disk never do.
A preview, not a production server: one machine, 127.0.0.1 only.
"""

from __future__ import annotations

import http.server
import mimetypes
import os
import re
import sys
import threading
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.parse import quote, unquote, urlsplit

from .byteranges import RangeNotSatisfiable, requested_range
from .pages import NOT_FOUND as NOT_FOUND_PAGE
from .previewrules import ControlFiles, headers_for, redirect_for
from .servefiles import CONTROL_FILES, file_identities, identity, names_control_file, open_regular, resolve

LIVE_PATH = "_dzbuild/live"  # below dzbuild's own folder of the output: never a file
TYPES = {".dzi": "application/xml", ".dzc": "application/xml", ".xml": "application/xml", ".webp": "image/webp"}
RELOAD_SCRIPT = (
    '<script>(function(){{var s=new EventSource("{url}?since={generation}");'
    's.addEventListener("reload",function(){{s.close();location.reload();}});}})();</script>'
)
CHUNK = 1 << 20
URL_SAFE = "/:?#[]@!$&'()*+,;=%~"  # reserved characters and escapes stay as the target wrote them


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


class PreviewHandler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD on the output folder; ``server`` is the ``PreviewServer`` (paths, rules, live reload)."""

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
            return self._live(body)
        redirect = redirect_for(self.server.rules.redirects(), path)
        if redirect is not None and redirect[1] != 200:  # a target written with non-ASCII: percent-encoded
            return self._redirect(quote(redirect[0], safe=URL_SAFE), redirect[1])
        if redirect is not None:  # a 200 rewrite: serve the target's file under this URL
            path = urlsplit(redirect[0]).path
        self._send_file(path, body)

    def _send_file(self, path: str, body: bool) -> None:
        try:
            rel = unquote(path[len(self.server.base) :], errors="strict")
        except UnicodeDecodeError:
            return self._error(404)
        target = resolve(self.server.output, self.server.allowed, rel) if path.startswith(self.server.base) else None
        if target is None:
            return self._error(403)
        if names_control_file(rel):
            return self._error(404)
        try:
            if target.is_dir():
                if not path.endswith("/"):
                    return self._redirect(path + "/", 301)
                target = target / "index.html"
            opened = self._open(target, rel)
        except OSError:  # missing, a name longer than the file system allows, a socket
            return self._error(404)
        if opened is None:  # a FIFO or a device: never read
            return self._error(403)
        with opened:
            if identity(opened) in file_identities(self.server.control_files):
                return self._error(404)  # another name of a control file (a link, another case)
            self._send_opened(opened, target, path, body)

    def _open(self, target: Path, rel: str) -> BinaryIO | None:
        try:
            return open_regular(target)
        except FileNotFoundError:
            pending = self._being_linked(rel)
            if pending is None:
                raise
            return open_regular(pending)

    def _being_linked(self, rel: str) -> Path | None:
        """A file of a version published in the cache but not yet linked into the output.

        The preview reloads pages as soon as a version is published and links it into the output
        right after; until then its files (the same ones) come from the cache tree, whose layout
        is the output's. Hidden names (the build state) are never served.
        """
        if any(part.startswith(".") for part in rel.split("/")):
            return None
        return resolve(self.server.pending, self.server.allowed, rel)

    def _send_opened(self, opened: BinaryIO, target: Path, path: str, body: bool) -> None:
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        page = None
        if kind == "text/html":
            page = self._with_reload(opened.read())
            kind += "; charset=utf-8"
        size = len(page) if page is not None else os.fstat(opened.fileno()).st_size
        ranged = self.command == "GET" and "If-Range" not in self.headers  # no validators here to match
        try:
            part = requested_range(self.headers.get("Range"), size) if ranged else None
        except RangeNotSatisfiable:
            return self._error(416, [("Content-Range", f"bytes */{size}"), ("Accept-Ranges", "bytes")])
        start, length = (part.start, part.length) if part is not None else (0, size)
        self.send_response(206 if part is not None else 200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if part is not None:
            self.send_header("Content-Range", part.content_range(size))
        for name, value in headers_for(self.server.rules.headers(), path):
            self.send_header(name, value)
        self.end_headers()
        if not body:
            return
        if page is not None:
            self.wfile.write(page[start : start + length])
        else:
            self._copy(opened, start, length)

    def _copy(self, opened: BinaryIO, start: int, length: int) -> None:
        opened.seek(start)
        while length > 0:
            chunk = opened.read(min(length, CHUNK))
            if not chunk:  # the file shrank meanwhile: the client sees a short answer, then the end
                self.close_connection = True
                return
            self.wfile.write(chunk)
            length -= len(chunk)

    def _with_reload(self, page: bytes) -> bytes:
        script = RELOAD_SCRIPT.format(url=self.server.base + LIVE_PATH, generation=self.server.live.generation)
        at = page.rfind(b"</body>")
        at = len(page) if at < 0 else at
        return page[:at] + script.encode() + page[at:]

    def _live(self, body: bool) -> None:
        """Server-sent events: a ``reload`` event once a build newer than the page's is published."""
        query = urlsplit(self.path).query
        found = re.search(r"since=([0-9]{1,18})(?![0-9])", query)  # a longer number is no build of ours
        since = int(found.group(1)) if found else self.server.live.generation
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        if not body:  # HEAD: the headers a GET would start with, and no stream
            return
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

    def _redirect(self, location: str, status: int) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _error(self, status: int, headers: list[tuple[str, str]] = ()) -> None:
        page = self._not_found_page() if status == 404 else None
        data = page if page is not None else f"{status} {http.HTTPStatus(status).phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", f"text/{'html' if page is not None else 'plain'}; charset=utf-8")
        if page is not None:  # as the hosts answer a missing URL: the site's page, never kept by a cache
            self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _not_found_page(self) -> bytes | None:
        """The site's ``404.html``, which every host sends for a missing URL, or None if it has none."""
        try:
            opened = open_regular(self.server.output / NOT_FOUND_PAGE)
        except OSError:
            return None
        if opened is None:
            return None
        with opened:
            return self._with_reload(opened.read())

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the rebuild lines are what the author watches


class PreviewServer(http.server.ThreadingHTTPServer):
    """Bound at construction (so a taken port fails before any build); ``serve_forever`` in a thread.

    ``warn`` hears each ``_redirects`` line the preview has to skip, once.
    """

    daemon_threads = True
    request_queue_size = 1024  # a page opening with a hundred tiles at once: no connection waits for a retry

    def handle_error(self, request, client_address) -> None:
        """A page that went away mid-answer (a reload, a closed tab) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(
        self, port: int, output: Path, cache: Path, base: str,
        headers_file: Path | None = None, redirects_file: Path | None = None,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:  # fmt: skip
        self.output, self.allowed, self.base = output, (output, cache), base
        self.pending = cache / "tree"  # the site build's pyramids, laid out as the output is
        headers_file, redirects_file = headers_file or output / "_headers", redirects_file or output / "_redirects"
        self.control_files = (*(output / name for name in CONTROL_FILES), headers_file, redirects_file)
        self.rules = ControlFiles(headers_file, redirects_file, warn)
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
