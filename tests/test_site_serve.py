"""``dzbuild serve``: the preview serves the output as the host would, only the output, and reloads pages.

The server runs as the real command (``python -m dzbuild serve --port 0``) on a small site; headers
are compared with what ``_headers`` gives, read by the independent host model in ``hostrules``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hostrules import follow_redirect, parse_headers_file, parse_redirects_file, response_headers
from previewclient import Served
from sites import make_site
from viewerpages import chromium

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.site.previewrules import headers_for, parse_header_rules, parse_redirects, redirect_for
from dzbuild.site.servefiles import resolve
from dzbuild.testing import synthetic_image


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
    rules, problems = parse_header_rules(text)
    assert problems == []
    assert headers_for(rules, "/a/b/c.jpg") == [("Cache-Control", "public, max-age=5"), ("X-One", "1")]
    assert headers_for(rules, "/c/") == [("X-Two", "2")] and headers_for(rules, "/d") == []
    redirects, problems = parse_redirects("# a comment\n/x/:name/* /y/:name/:splat 301\n/old /new\n")
    assert problems == []
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
    with page.expect_response(lambda response: "_dzbuild/live" in response.url):  # its event stream is open
        page.goto(server.url + "a/")
    assert "dzi/v1/dzi.xml" not in page.content()
    page.evaluate("window.beforeTheRebuild = true")
    add_v1(site)
    page.wait_for_function("() => document.documentElement.outerHTML.includes('dzi/v1/dzi.xml')", timeout=60_000)
    assert page.evaluate("window.beforeTheRebuild === undefined"), "the page was reloaded, not patched"
    page.close()
