"""``dzbuild serve`` answers single byte ranges (206, 416 past the end), so packs read by range work locally.

The requests go to a ``PreviewServer`` on an output made inline; every partial answer is compared
with the bytes of the file on disk (or of the served page, which carries the reload script).
"""

from __future__ import annotations

import pytest
from previewclient import InProcess

from dzbuild.site.byteranges import ByteRange, RangeNotSatisfiable, requested_range

ARCHIVE = bytes((i * 7 + i // 256) % 256 for i in range(5000))  # no two neighbouring windows alike
SIZE = len(ARCHIVE)


@pytest.fixture
def preview(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "pack.pmtiles").write_bytes(ARCHIVE)
    (out / "a" / "empty.bin").write_bytes(b"")
    (out / "a" / "index.html").write_text("<html><body>the page</body></html>")
    (out / "_headers").write_text("/a/*\n  Access-Control-Allow-Origin: *\n")
    (out / "_redirects").write_text("/a/latest/* /a/:splat 302\n")
    (tmp_path / "cache").mkdir()
    server = InProcess(out, tmp_path / "cache").start()
    yield server
    server.stop()
    assert "Traceback" not in capsys.readouterr().err


def partial(preview, header: str, path: str = "/a/pack.pmtiles"):
    status, headers, body = preview.get(path, headers={"Range": header})
    assert int(headers["content-length"]) == len(body)
    return status, headers, body


@pytest.mark.parametrize(
    "header, start, stop",
    [
        ("bytes=0-0", 0, 1),  # the first byte
        ("bytes=2000-2999", 2000, 3000),  # the middle
        (f"bytes={SIZE - 1}-{SIZE - 1}", SIZE - 1, SIZE),  # the last byte
        ("bytes=-1", SIZE - 1, SIZE),  # the last byte, as a suffix
        ("bytes=-127", SIZE - 127, SIZE),  # a suffix (a PMTiles reader's first request is a prefix, 0-16383)
        ("bytes=-99999", 0, SIZE),  # a suffix longer than the file: all of it
        ("bytes=4990-", 4990, SIZE),  # an open range
        ("bytes=0-16383", 0, SIZE),  # past the end: up to the end
        ("Bytes=10-19", 10, 20),  # the unit in another case
        ("bytes= 10-19 ", 10, 20),  # spaces around the range
        ("bytes=0-" + "9" * 5000, 0, SIZE),  # more digits than Python converts to an int
        ("bytes=-" + "9" * 5000, 0, SIZE),
        ("bytes=" + "0" * 5000 + "1-", 1, SIZE),
    ],
)
def test_a_single_range_is_answered_with_206_and_exactly_those_bytes(preview, header, start, stop):
    status, headers, body = partial(preview, header)
    assert status == 206
    assert body == ARCHIVE[start:stop]
    assert headers["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert headers["accept-ranges"] == "bytes"
    assert headers["access-control-allow-origin"] == "*", "the _headers rules apply to partial answers too"


@pytest.mark.parametrize(
    "header", [f"bytes={SIZE}-", f"bytes={SIZE}-{SIZE + 10}", "bytes=99999-", "bytes=-0", "bytes=" + "9" * 5000 + "-"]
)
def test_a_range_past_the_end_is_416_with_the_size(preview, header):
    status, headers, body = partial(preview, header)
    assert status == 416 and headers["content-range"] == f"bytes */{SIZE}"
    assert ARCHIVE[:16] not in body


def test_an_empty_file_has_no_satisfiable_range(preview):
    status, headers, _ = partial(preview, "bytes=0-", "/a/empty.bin")
    assert status == 416 and headers["content-range"] == "bytes */0"
    assert preview.get("/a/empty.bin")[:3:2] == (200, b"")


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "bytes=5-2", "items=0-1", "bytes=abc", "bytes=-", "bytes=0x10-20", "bytes=²-³"]
)
def test_several_ranges_or_a_range_that_does_not_parse_get_the_whole_file(preview, header):
    status, headers, body = partial(preview, header)
    assert status == 200 and body == ARCHIVE and "content-range" not in headers
    assert headers["accept-ranges"] == "bytes"


def test_a_range_with_if_range_gets_the_whole_file(preview):
    """The preview sends no validators, so an ``If-Range`` can never match: the whole file, as RFC 9110 says."""
    status, headers, body = preview.get(
        "/a/pack.pmtiles", headers={"Range": "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    assert (status, body) == (200, ARCHIVE) and "content-range" not in headers


def test_a_whole_file_says_it_accepts_ranges(preview):
    status, headers, body = preview.get("/a/pack.pmtiles")
    assert status == 200 and body == ARCHIVE and headers["accept-ranges"] == "bytes"
    assert int(headers["content-length"]) == SIZE


def test_head_describes_the_whole_file_and_sends_no_body(preview):
    """RFC 9110 defines ranges for GET only: HEAD answers as a GET without the range would."""
    for headers in ({}, {"Range": "bytes=0-9"}, {"Range": f"bytes={SIZE}-"}):
        status, answer, body = preview.get("/a/pack.pmtiles", "HEAD", headers=headers)
        assert (status, body) == (200, b"")
        assert answer["content-length"] == str(SIZE) and answer["accept-ranges"] == "bytes"


def test_a_range_of_a_page_counts_the_bytes_served_with_the_reload_script(preview):
    _, _, page = preview.get("/a/")
    assert b"EventSource" in page
    status, headers, body = partial(preview, "bytes=-30", "/a/")
    assert status == 206 and body == page[-30:]
    assert headers["content-range"] == f"bytes {len(page) - 30}-{len(page) - 1}/{len(page)}"


def test_a_redirect_ignores_the_range_and_its_target_honours_it(preview):
    status, headers, _ = preview.get("/a/latest/pack.pmtiles", headers={"Range": "bytes=0-9"})
    assert (status, headers["location"]) == (302, "/a/pack.pmtiles")
    assert partial(preview, "bytes=0-9", headers["location"])[2] == ARCHIVE[:10]


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 1)),
        ("bytes=3-", ByteRange(3, 10)),
        ("bytes=-3", ByteRange(7, 10)),
        ("bytes=8-20", ByteRange(8, 10)),
        ("bytes=-20", ByteRange(0, 10)),
        ("bytes=0-1, 3-4", None),
        ("bytes=4-3", None),
        ("bytes=", None),
    ],
)
def test_requested_range(header, expected):
    assert requested_range(header, 10) == expected


@pytest.mark.parametrize("header, size", [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-5", 0), ("bytes=0-0", 0)])
def test_requested_range_not_satisfiable(header, size):
    with pytest.raises(RangeNotSatisfiable):
        requested_range(header, size)
