"""The preview server against hostile requests and odd outputs: the bad-input corpus of ``dzbuild serve``.

Most rows run against a ``PreviewServer`` started in this process on an output folder made inline
(fast, and the server's own thread prints any traceback into the captured stderr); the rows about
the command line and its warnings run ``dzbuild serve`` itself. Every request must get a whole HTTP
answer with the stated status, within a few seconds, and never a control file's bytes.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from previewclient import InProcess, Served, raw_exchange
from sites import make_site

HEADERS_TEXT = "/*\n  X-Preview: yes\n"
REDIRECTS_TEXT = "/old/* /a/:splat 301\n"
TILE = bytes(range(256)) * 4


@pytest.fixture
def output(tmp_path):
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "index.html").write_text("<html><body>home</body></html>")
    (out / "a" / "tile.jpg").write_bytes(TILE)
    (out / "_headers").write_text(HEADERS_TEXT)
    (out / "_redirects").write_text(REDIRECTS_TEXT)
    (tmp_path / "cache").mkdir()
    return out


@pytest.fixture
def preview(output, capsys):
    server = InProcess(output, output.parent / "cache").start()
    yield server
    server.stop()
    assert "Traceback" not in capsys.readouterr().err


def no_control_bytes(body: bytes) -> bool:
    return b"X-Preview" not in body and b"/old/*" not in body


# -- The control files, however the URL spells them ------------------------------------------------

CONTROL_SPELLINGS = [
    "/_headers", "/_redirects",
    "/_headers/", "/_redirects/", "/_headers//", "/_redirects///",  # a trailing slash
    "/%2f_headers", "/%2F_redirects", "/%2f%2f_headers", "/_headers%2f", "/_redirects%2F",  # an encoded slash
    "//_headers", "///_redirects",  # a doubled slash
    "/_HEADERS", "/_Redirects", "/_hEaDeRs/",  # another case
    "/%5fheaders", "/%5F%72edirects", "/_header%73", "/%5f%68%65%61%64%65%72%73",  # encoded letters
    "/./_headers", "/%2e/_redirects", "/a/../_headers", "/a/%2e%2e/_redirects", "/a/%2E%2E%2F_headers",  # dots
    "/_headers/.", "/_redirects/..", "/_headers/%2e",
    "/_headers?download=1", "/_redirects#top", "/_headers;x", "/_headers%00", "/_headers%20",  # decorations
    "http://127.0.0.1/_headers", "http://127.0.0.1//_redirects/",  # the absolute form of a request
    "/_headers\\", "/%5c_headers", "/a%5c..%5c_headers",  # backslashes
]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", CONTROL_SPELLINGS)
def test_the_control_files_are_never_served(preview, path, method):
    status, _, body = preview.get(path, method)
    assert status in (403, 404) and no_control_bytes(body)


def test_the_control_files_are_never_served_below_a_base_path(output, capsys):
    server = InProcess(output, output.parent / "cache", base="/zoom/").start()
    try:
        assert server.get("/zoom/a/tile.jpg")[2] == TILE
        for spelling in CONTROL_SPELLINGS:
            path = spelling.replace("http://127.0.0.1/", "http://127.0.0.1/zoom/") if "://" in spelling else spelling
            status, _, body = server.get("/zoom" + path if "://" not in path else path)
            assert status in (403, 404) and no_control_bytes(body), path
    finally:
        server.stop()
    assert "Traceback" not in capsys.readouterr().err


def test_a_link_to_a_control_file_does_not_serve_it(preview, output):
    os.symlink(output / "_headers", output / "a" / "rules.txt")
    os.symlink("../_redirects", output / "a" / "relative")
    assert preview.get("/a/rules.txt")[0] == 404 and preview.get("/a/relative")[0] == 404
    assert preview.get("/a/tile.jpg")[0] == 200


def test_a_rewrite_onto_a_control_file_does_not_serve_it(preview, output):
    (output / "_redirects").write_text("/rules /_headers/ 200\n/rules2 /%2f_redirects 200\n/tile /a/tile.jpg 200\n")
    for path in ("/rules", "/rules2"):
        status, _, body = preview.get(path)
        assert status in (403, 404) and no_control_bytes(body), path
    assert preview.get("/tile")[2] == TILE


def test_configured_control_files_inside_the_output_are_not_served(output, capsys):
    (output / "rules").mkdir()
    (output / "rules" / "my_headers").write_text(HEADERS_TEXT)
    server = InProcess(output, output.parent / "cache", headers_file=output / "rules" / "my_headers").start()
    try:
        assert server.get("/rules/my_headers")[0] == 404
        assert server.get("/a/tile.jpg")[1]["x-preview"] == "yes"  # its rules are the ones applied
    finally:
        server.stop()
    assert "Traceback" not in capsys.readouterr().err


# -- Odd files and paths ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Odd:
    name: str
    path: str
    status: int
    make: str = ""  # what to create in the output first


ODD = [
    Odd("a segment longer than the file system allows", "/" + "x" * 300, 404),
    Odd("a long segment below a folder", "/a/" + "y" * 256 + "/tile.jpg", 404),
    Odd("a long percent-encoded segment", "/a/" + "%41" * 300, 404),
    Odd("a path longer than the file system allows", "/" + "/".join(["d" * 200] * 30), 404),
    Odd("a long name for a folder's index", "/" + "z" * 4000 + "/", 404),
    Odd("a FIFO", "/a/pipe", 403, make="fifo a/pipe"),
    Odd("a FIFO as a folder's index", "/a/", 403, make="fifo a/index.html"),
    Odd("a socket", "/a/socket", 404, make="socket a/socket"),
    Odd("a link to a FIFO", "/a/to-pipe", 403, make="fifo a/pipe; link a/to-pipe a/pipe"),
    Odd("an unreadable file", "/a/secret.jpg", 404, make="unreadable a/secret.jpg"),
    Odd("a link loop", "/a/loop", 404, make="link a/loop a/loop"),
    Odd("invalid UTF-8 in the path", "/a/%ff%fe.jpg", 404),
    Odd("a NUL byte", "/a/tile.jpg%00.png", 403),
]


def make(output: Path, recipe: str, sockets: list) -> None:
    for step in filter(None, (part.strip() for part in recipe.split(";"))):
        kind, *names = step.split()
        path = output / names[0]
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(path))
            sockets.append(sock)
        elif kind == "link":
            os.symlink(output / names[1], path)
        elif kind == "unreadable":
            path.write_bytes(b"x")
            path.chmod(0)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("case", ODD, ids=[case.name for case in ODD])
def test_odd_files_and_paths_get_a_whole_answer(preview, output, case, method):
    if case.make.startswith("unreadable") and os.geteuid() == 0:
        case = Odd(case.name, case.path, 200, case.make)  # root reads it anyway: still a whole answer
    sockets: list = []
    make(output, case.make, sockets)
    started = time.monotonic()
    status, headers, body = preview.get(case.path, method, timeout=5)
    assert status == case.status and time.monotonic() - started < 5
    assert int(headers["content-length"]) == (len(body) if method == "GET" else int(headers["content-length"]))
    assert preview.get("/a/tile.jpg")[2] == TILE, "the next request is served as usual"
    for sock in sockets:
        sock.close()


def test_a_fifo_as_the_headers_file_does_not_hold_requests(output, capsys):
    (output / "_headers").unlink()
    os.mkfifo(output / "_headers")
    server = InProcess(output, output.parent / "cache").start()
    try:
        status, _, body = server.get("/a/tile.jpg", timeout=5)
        assert status == 200 and body == TILE
        assert server.get("/_headers", timeout=5)[0] == 404
    finally:
        server.stop()
    assert "Traceback" not in capsys.readouterr().err


# -- _redirects lines the preview cannot apply ----------------------------------------------------

BAD_REDIRECTS = [
    ("/:splat/zoom/a/latest/* /:splat/zoom/a/dzi/v0/:splat 302", "more than one splat"),  # base_url "/:splat/zoom/"
    ("/two/*/splats/* /x/:splat 301", "more than one splat"),
    ("/:name/x/:name /y 301", "the placeholder :name twice"),
    ("/odd /a/tile.jpg 999", "status '999'"),
    ("/odd2 /a/tile.jpg abc", "status 'abc'"),
    ("/odd3 /a/tile.jpg 404", "status '404'"),
    ("/odd4 /a/tile.jpg " + "3" * 5000, "status '33333"),  # more digits than Python converts to an int
    ("/odd5 /a/tile.jpg 0301", "status '0301'"),
    ("/proxy https://example.org/x 200", "another origin"),
    ("/lonely", "without a target"),
    ("/many /fields here 301 extra", "5 fields"),
    ("no-slash /a/tile.jpg 301", "is not a path"),
]


def test_redirect_lines_that_cannot_be_applied_are_skipped_with_one_warning_each(output, capsys):
    lines = [line for line, _ in BAD_REDIRECTS] + ["/good /a/tile.jpg 301", "/forced /a/tile.jpg 302!"]
    (output / "_redirects").write_text("\n".join(lines) + "\n")
    warnings: list[str] = []
    server = InProcess(output, output.parent / "cache", warn=warnings.append).start()
    try:
        for _ in range(3):
            assert server.get("/a/tile.jpg")[2] == TILE
            status, headers, _ = server.get("/good")
            assert (status, headers["location"]) == (301, "/a/tile.jpg")
            assert server.get("/forced")[1]["location"] == "/a/tile.jpg"
            assert server.get("/two/1/splats/2")[0] == 404 and server.get("/odd")[0] == 404
    finally:
        server.stop()
    assert len(warnings) == len(BAD_REDIRECTS), warnings
    for number, (warning, (_, why)) in enumerate(zip(warnings, BAD_REDIRECTS, strict=True), 1):
        assert warning.startswith(f"{output / '_redirects'} line {number}: ") and why in warning, warning
        assert len(warning) < len(str(output)) + 200, "a warning stays one short line"
    assert "Traceback" not in capsys.readouterr().err


def test_a_bad_redirect_line_does_not_break_other_requests(preview, output):
    (output / "_redirects").write_text("/two/*/splats/* /x/:splat 301\n/:splat/zoom/* /y/:splat\n" + REDIRECTS_TEXT)
    assert preview.get("/a/tile.jpg")[2] == TILE
    assert preview.get("/old/tile.jpg")[1]["location"] == "/a/tile.jpg"
    assert preview.get("/")[0] == 200


def test_header_lines_that_http_cannot_carry_are_skipped_with_one_warning_each(output, capsys):
    (output / "_headers").write_text("/a/*\n  X-Party: \U0001f389\n  Bad Name: 1\n  X-Kept: caf\u00e9\n")
    warnings: list[str] = []
    server = InProcess(output, output.parent / "cache", warn=warnings.append).start()
    try:
        for _ in range(3):
            status, headers, body = server.get("/a/tile.jpg")
            assert (status, body) == (200, TILE) and headers["x-kept"] == "caf\u00e9"
            assert "x-party" not in headers and not any(" " in name for name in headers)
    finally:
        server.stop()
    assert [warning.split(": ", 1)[0] for warning in warnings] == [f"{output / '_headers'} line {n}" for n in (2, 3)]
    assert "Traceback" not in capsys.readouterr().err


def test_a_redirect_to_a_non_ascii_target_is_percent_encoded(preview, output):
    lines = "/cafe /caf\u00e9/menu?x=\u00e9t\u00e9#top 301  # a comment\n/enc /a%20b/ 302\n"
    (output / "_redirects").write_text(lines, encoding="utf-8")
    status, headers, _ = preview.get("/cafe")
    assert (status, headers["location"]) == (301, "/caf%C3%A9/menu?x=%C3%A9t%C3%A9#top")
    assert preview.get("/enc")[1]["location"] == "/a%20b/", "an escape already there stays as written"


def test_serve_warns_once_at_start_about_a_redirect_line_it_skips(tmp_path):
    site = make_site(tmp_path, images=("a",))
    (site / "_site").mkdir()
    (site / "_site" / "_redirects").write_text("/two/*/splats/* /x/:splat 301\n/odd /a/ 999\n")  # the site's own
    server = Served(site)
    try:
        for _ in range(3):
            assert server.get("/a/")[0] == 200 and server.get("/a/dzi/v0/dzi.xml")[0] == 200
            assert server.get("/a/latest/dzi.xml")[1]["location"] == "/a/dzi/v0/dzi.xml"  # dzbuild's line applies
    finally:
        assert server.stop() == 0
    warnings = [line for line in server.lines if "warning:" in line]
    assert len(warnings) == 2, server.lines
    assert "_redirects line 1: more than one splat (*) in the source; the preview skips this line" in warnings[0]
    assert "_redirects line 2: status '999'" in warnings[1]
    assert "Traceback" not in server.process.stderr.read()


# -- The live stream and many connections ----------------------------------------------------------


def test_head_on_the_live_stream_sends_headers_only(preview):
    started = time.monotonic()
    answer = raw_exchange(preview.port, b"HEAD /_dzbuild/live HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
    assert rest == b"" and time.monotonic() - started < 5


@pytest.mark.parametrize("since", ["9" * 5000, "-1", "x", "1e9", "%00"])
def test_the_live_stream_takes_any_since(preview, since):
    status, headers, body = preview.get(f"/_dzbuild/live?since={since}", "HEAD")
    assert (status, body) == (200, b"") and headers["content-type"] == "text/event-stream"


def test_a_busy_server_queues_150_connections_at_once(output, capsys):
    """Not yet accepting (as when every handler is busy): the kernel still completes 150 handshakes."""
    server = InProcess(output, output.parent / "cache")
    clients = []
    try:
        for _ in range(150):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", server.port))
            clients.append(client)
        deadline, pending = time.monotonic() + 0.9, list(clients)  # a dropped handshake retries after 1 s
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], pending, [], max(0.0, deadline - time.monotonic()))
            pending = [client for client in pending if client not in writable]
        assert not pending, f"{len(pending)} of 150 connections wait for a retry"
        server.start()
        for client in clients:
            client.setblocking(True)
            client.settimeout(10)
            client.sendall(b"GET /a/tile.jpg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for client in clients:
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(TILE)
    finally:
        for client in clients:
            client.close()
        server.stop()
    assert "Traceback" not in capsys.readouterr().err


# -- The command line ------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["missing", "file"])
def test_serve_on_a_mistyped_folder_names_serve_and_the_folder(tmp_path, what):
    site = make_site(tmp_path, images=("a",))
    typo = site.parent / "stie"
    if what == "file":
        typo.write_text("not a site")
    result = subprocess.run(
        [sys.executable, "-m", "dzbuild", "serve", str(typo), "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"dzbuild: error: {typo}: ")
    assert "dzbuild serve needs the site's root folder" in result.stderr and "dzbuild build" not in result.stderr


def test_a_missing_url_gets_the_sites_404_page_as_on_a_host_and_no_cache_keeps_it(preview, output):
    status, headers, body = preview.get("/a/v9/missing.jpg")
    assert (status, headers["content-type"]) == (404, "text/plain; charset=utf-8")  # a site with no 404.html
    (output / "404.html").write_text("<html><body><h1>Not here</h1><a href='/'>index</a></body></html>")
    for path in ("/a/v9/missing.jpg", "/nowhere/", "/a/tile.jpg/more"):
        status, headers, body = preview.get(path)
        assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-store" and b"<h1>Not here</h1>" in body
        assert int(headers["content-length"]) == len(body)
    status, headers, body = preview.get("/nowhere/", "HEAD")
    assert status == 404 and body == b"" and int(headers["content-length"]) > 0
