"""A site whose viewer pages open IIIF: OpenSeadragon reads info.json and finds every tile it asks for."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from dzbuild.site.build import build_site
from dzbuild.testing import make_image_folder
from dzbuild.testing.viewer import ViewerUnavailable, find_openseadragon, open_site_page, start_server, stop_server


def test_viewer_pages_open_iiif_and_every_tile_is_served(tmp_path):
    try:
        osd = find_openseadragon().parent
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    site = tmp_path / "site"
    output = site / "_site"
    output.mkdir(parents=True)
    make_image_folder(site / "wide", 1497, 515, 256, seed=5)
    server = start_server(output)  # the base URL must be absolute, so the server comes first
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        (site / "dzbuild.toml").write_text(
            f'base_url = "{url}"\nformats = ["iiif", "dzi"]\n[viewer]\nformat = "iiif"\n'
            f"openseadragon_dir = {json.dumps(str(osd))}\n",
            encoding="utf-8",
        )
        build_site(site, progress="quiet", jobs=1)
        assert '"iiif/v0/info.json"' in (output / "wide" / "index.html").read_text(encoding="utf-8")
        assert json.loads((output / "wide" / "iiif" / "v0" / "info.json").read_text())["id"] == f"{url}wide/iiif/v0"
        try:
            report = open_site_page(output, "wide/", served_at=url)
        except ViewerUnavailable as exc:
            pytest.skip(str(exc))
    finally:
        stop_server(server)
    assert report.failed == [] and report.errors == []
    assert any(url.endswith("/wide/iiif/v0/info.json") for url in report.requested)
    assert any("/wide/iiif/v0/" in url and url.endswith("/default.jpg") for url in report.requested)
    assert not any("dzi_files" in url for url in report.requested)  # the page opened IIIF, not the DZI
    missing = [url for url in report.tile_urls if not (output / urlsplit(url).path.lstrip("/")).is_file()]
    assert report.tile_urls and missing == []


@pytest.mark.parametrize("base_url", ["/", "/zoom/"])
def test_a_site_whose_base_url_is_a_path_is_refused_before_any_output(tmp_path, base_url):
    site = tmp_path / "site"
    make_image_folder(site / "wide", 600, 300, 256, seed=5)
    (site / "dzbuild.toml").write_text(f'base_url = "{base_url}"\nformats = ["dzi", "iiif"]\n', encoding="utf-8")
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    result = subprocess.run([sys.executable, "-m", "dzbuild", "build", str(site)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(site / "dzbuild.toml") in lines[0]
    assert "absolute http(s) URL" in lines[0] and "base_url" in lines[0]
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before  # no output, no cache


def test_the_image_page_names_the_info_json_and_manifest_links_apart(tmp_path):
    site = tmp_path / "site"
    make_image_folder(site / "wide", 600, 300, 256, seed=5)
    (site / "dzbuild.toml").write_text(
        'base_url = "https://zoom.example.org/"\nformats = ["dzi", "iiif"]\n[viewer]\nformat = "iiif"\n'
        'openseadragon = "cdn"\n',
        encoding="utf-8",
    )
    build_site(site, progress="quiet", jobs=1)
    links = _header_links((site / "_site/wide/index.html").read_text(encoding="utf-8"))
    assert links["iiif/v0/info.json"] == "IIIF image"
    assert links["iiif/manifest.json?manifest=https%3A//zoom.example.org/wide/iiif/manifest.json"] == "IIIF manifest"


def test_dzbuild_serve_answers_full_max_and_universal_viewers_thumbnail(tmp_path):
    """Through the real ``dzbuild serve``: the requests a client builds from info.json get the pictures."""
    import http.client
    import re
    import signal

    from dzbuild.io import codec

    site = tmp_path / "site"
    make_image_folder(site / "wide", 1001, 750, 256, seed=5)
    (site / "dzbuild.toml").write_text(
        'base_url = "https://zoom.example.org/"\nformats = ["dzi", "iiif"]\n[viewer]\nopenseadragon = "cdn"\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "dzbuild", "serve", str(site), "--port", "0", "-j", "1"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or " at http://" not in lines[-1]:
            lines.append(server.stdout.readline())
            assert lines[-1], f"serve ended: {lines} {server.stderr.read()}"
        host, port = re.search(r" at http://([\d.]+):(\d+)/", lines[-1]).groups()

        def get(path: str) -> tuple[int, bytes]:
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        status, body = get("/wide/iiif/v0/info.json")
        info = json.loads(body)
        assert status == 200 and (info["maxWidth"], info["maxHeight"]) == (256, 256)
        pictures = {}
        for request in ("full/max", "full/90,", *(f"full/{s['width']},{s['height']}" for s in info["sizes"])):
            status, body = get(f"/wide/iiif/v0/{request}/0/default.jpg")
            assert status == 200, request
            pixels = codec.decode(body)
            pictures[request] = (pixels.shape[1], pixels.shape[0])
        assert pictures["full/max"] == (256, 192) and pictures["full/90,"] == (90, 67)
        assert all(pictures[f"full/{s['width']},{s['height']}"] == (s["width"], s["height"]) for s in info["sizes"])
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=20)


def _header_links(html: str) -> dict[str, str]:
    """href (without ./) -> text of every link in the page's header."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self.href, self.in_header = {}, None, False

        def handle_starttag(self, tag, attrs):
            self.in_header |= tag == "header"
            if tag == "a" and self.in_header:
                self.href = dict(attrs)["href"].removeprefix("./")
                self.found[self.href] = ""

        def handle_endtag(self, tag):
            self.in_header &= tag != "header"
            self.href = None if tag == "a" else self.href

        def handle_data(self, data):
            if self.href is not None:
                self.found[self.href] += data

    parser = Links()
    parser.feed(html)
    return parser.found
