"""``dzbuild serve``: the preview serves the output as the host would, only the output, and reloads pages.

The server runs as the real command (``python -m dzbuild serve --port 0``) on a small site; headers
are compared with what ``_headers`` gives, read by the independent host model in ``hostrules``.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostrules import follow_redirect, parse_headers_file, parse_redirects_file, response_headers
from sites import make_site
from viewerpages import chromium

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.serve import headers_for, parse_redirects, redirect_for, resolve
from dzbuild.testing import synthetic_image


class Served:
    """A ``dzbuild serve`` process; ``url`` is read from its first lines."""

    def __init__(self, site: Path, *args: str) -> None:
        command = [sys.executable, "-m", "dzbuild", "serve", str(site), "--port", "0", "-j", "2", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for_line(" at http://127.0.0.1:")  # printed once the watcher is in place
        self.url = re.search(r" at (http://127\.0\.0\.1:\d+/) ", line).group(1)

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put("")  # the end

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """A raw request: the path goes out exactly as written (no client-side normalisation)."""
        host, port = self.url.split("//")[1].rstrip("/").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def wait_for_line(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            assert line, f"serve ended: {self.lines} {self.process.stderr.read()}"
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {timeout} s: {self.lines}")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code (0: a clean stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def served(tmp_path):
    site = make_site(tmp_path, images=("a", "gallery/b"))
    server = Served(site)
    yield site, server
    server.stop()


def add_v1(site: Path, rel: str = "a") -> None:
    """A one-tile patch, written beside the image and moved in whole, as the README advises."""
    spec = load_spec(site / rel)
    staging = site.parent / "staging-v1"
    write_tiles(staging, synthetic_image(spec.width, spec.height, seed=42), spec, [Tile(spec.grid.max_level, 0, 0)])
    staging.rename(site / rel / "v1")


# -- Serving as the host would ---------------------------------------------------------------------


def test_a_tile_carries_the_cache_control_that_headers_gives(served):
    site, server = served
    rules = parse_headers_file((site / "_site" / "_headers").read_text())
    tile = "/a/dzi/v0/dzi_files/0/0_0.jpg"
    status, headers, body = server.get(tile)
    assert status == 200 and body == (site / "_site" / "a/dzi/v0/dzi_files/0/0_0.jpg").read_bytes()
    expected = response_headers(rules, tile)
    assert expected["cache-control"] == ["public, max-age=31536000, immutable"]
    assert headers["cache-control"] == ", ".join(expected["cache-control"])
    assert headers["content-type"] == "image/jpeg"
    status, headers, _ = server.get("/a/")
    assert status == 200 and headers["cache-control"] == ", ".join(response_headers(rules, "/a/")["cache-control"])


def test_redirects_are_applied_and_pages_get_the_reload_script_only_when_served(served):
    site, server = served
    redirects = parse_redirects_file((site / "_site" / "_redirects").read_text())
    status, headers, _ = server.get("/a/latest/dzi.xml")
    expected = follow_redirect(redirects, "/a/latest/dzi.xml")
    assert (headers["location"], status) == expected == ("/a/dzi/v0/dzi.xml", 302)
    status, _, page = server.get("/a/")
    assert b"EventSource" in page and b"EventSource" not in (site / "_site" / "a" / "index.html").read_bytes()
    assert server.get("/a")[0] == 301 and server.get("/a")[1]["location"] == "/a/"
    assert server.get("/_headers")[0] == 404 and server.get("/nothing/here.jpg")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/../dzbuild.toml",
        "/a/../../dzbuild.toml",
        "/%2e%2e/dzbuild.toml",
        "/a/%2E%2E/%2e%2e/dzbuild.toml",
        "/..%2fdzbuild.toml",
        "/a/%2e%2e%2f%2e%2e%2fdzbuild.toml",
        "/a/.%2e/.%2e/dzbuild.toml",
        "/a/..%5c..%5cdzbuild.toml",
        "/%2e%2e%2f.dzbuild/site.json",
    ],
)
def test_traversal_is_refused(served, path):
    site, server = served
    status, _, body = server.get(path)
    assert status in (403, 404)
    assert b"openseadragon_dir" not in body and b"owned" not in body


def test_symbolic_links_are_followed_only_into_the_cache(served):
    site, server = served
    out = site / "_site"
    os.symlink(site / "dzbuild.toml", out / "config.txt")
    os.symlink(site / ".dzbuild" / "tree" / "a" / "dzi" / "v0" / "dzi.xml", out / "cached.xml")
    assert server.get("/config.txt")[0] == 403
    status, _, body = server.get("/cached.xml")
    assert status == 200 and body.startswith(b"<?xml")


def test_a_version_not_yet_linked_into_the_output_is_read_from_the_cache_but_never_its_state(served):
    site, server = served
    cached = site / ".dzbuild" / "tree" / "a" / "dzi" / "v0"
    shutil.rmtree(site / "_site" / "a" / "dzi" / "v0")  # as between a rebuild's publish and its output link
    status, _, body = server.get("/a/dzi/v0/dzi_files/0/0_0.jpg")
    assert status == 200 and body == (cached / "dzi_files" / "0" / "0_0.jpg").read_bytes()
    assert server.get("/a/.dzbuild/v0.json")[0] == 404
    assert server.get("/a/%2edzbuild/v0.json")[0] == 404
    assert (site / ".dzbuild" / "tree" / "a" / ".dzbuild" / "v0.json").is_file()


def test_resolve_refuses_dot_segments_and_links_out(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    (out / "x").mkdir(parents=True)
    cache.mkdir()
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", out / "x" / "link")
    assert resolve(out, (out, cache), "x/") == out / "x"
    for rel in ("../secret", "x/../../secret", "x/./y", "x/link", "x\\..\\..\\secret"):
        assert resolve(out, (out, cache), rel) is None, rel


def test_header_rules_join_and_redirects_fill_placeholders():
    text = "/a/*\n  Cache-Control: public\n  X-One: 1\n/a/b/*\n  Cache-Control: max-age=5\n/c/\n  X-Two: 2\n"
    assert headers_for(text, "/a/b/c.jpg") == [("Cache-Control", "public, max-age=5"), ("X-One", "1")]
    assert headers_for(text, "/c/") == [("X-Two", "2")] and headers_for(text, "/d") == []
    redirects = parse_redirects("# a comment\n/x/:name/* /y/:name/:splat 301\n/old /new\n")
    assert redirect_for(redirects, "/x/one/two/three.jpg") == ("/y/one/two/three.jpg", 301)
    assert redirect_for(redirects, "/old") == ("/new", 302) and redirect_for(redirects, "/oldx") is None


# -- Errors ----------------------------------------------------------------------------------------


def test_a_taken_port_is_exit_2_with_one_line(tmp_path):
    site = make_site(tmp_path, images=("a",))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "dzbuild", "serve", str(site), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"dzbuild: error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port\n"
    )
    assert not (site / "_site").exists(), "nothing is built before the port is known to be free"


# -- Rebuild and reload ----------------------------------------------------------------------------


def test_a_new_version_is_rebuilt_and_served(served):
    site, server = served
    add_v1(site)
    line = server.wait_for_line("rebuilt")
    assert "1 version built (" in line
    status, _, body = server.get("/a/")
    assert status == 200 and b"dzi/v1/dzi.xml" in body
    assert server.get("/a/latest/dzi.xml")[1]["location"] == "/a/dzi/v1/dzi.xml"
    (site / "dzbuild.toml").write_text((site / "dzbuild.toml").read_text() + "title = [\n")  # broken config
    line = server.wait_for_line("error:")
    assert "invalid TOML" in line and "still serving the last good build" in line
    assert server.get("/a/")[0] == 200
    assert server.stop() == 0 and server.process.stderr.read() == ""


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


def test_an_open_page_reloads_after_a_new_version_is_added(served, browser):
    site, server = served
    page = browser.new_page()
    page.goto(server.url + "a/")
    assert "dzi/v1/dzi.xml" not in page.content()
    page.evaluate("window.beforeTheRebuild = true")
    page.wait_for_timeout(300)  # the page's event stream is connected
    add_v1(site)
    page.wait_for_function("() => document.documentElement.outerHTML.includes('dzi/v1/dzi.xml')", timeout=60_000)
    assert page.evaluate("window.beforeTheRebuild === undefined"), "the page was reloaded, not patched"
    page.close()
