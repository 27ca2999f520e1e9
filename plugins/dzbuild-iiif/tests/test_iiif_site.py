"""A site whose viewer pages open IIIF: OpenSeadragon reads info.json and finds every tile it asks for."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from dzbuild.site.build import build_site
from dzbuild.testing import make_image_folder
from dzbuild.testing.viewer import ViewerUnavailable, find_openseadragon, open_site_page


def test_viewer_pages_open_iiif_and_every_tile_is_served(tmp_path):
    try:
        osd = find_openseadragon().parent
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    site = tmp_path / "site"
    make_image_folder(site / "wide", 1497, 515, 256, seed=5)
    (site / "dzbuild.toml").write_text(
        f'formats = ["iiif", "dzi"]\n[viewer]\nformat = "iiif"\nopenseadragon_dir = {json.dumps(str(osd))}\n',
        encoding="utf-8",
    )
    build_site(site, progress="quiet", jobs=1)
    output = site / "_site"
    assert '"iiif/v0/info.json"' in (output / "wide" / "index.html").read_text(encoding="utf-8")
    assert json.loads((output / "wide" / "iiif" / "v0" / "info.json").read_text())["id"] == "/wide/iiif/v0"
    try:
        report = open_site_page(output, "wide/")
    except ViewerUnavailable as exc:
        pytest.skip(str(exc))
    assert report.failed == [] and report.errors == []
    assert any(url.endswith("/wide/iiif/v0/info.json") for url in report.requested)
    assert any("/wide/iiif/v0/" in url and url.endswith("/default.jpg") for url in report.requested)
    assert not any("dzi_files" in url for url in report.requested)  # the page opened IIIF, not the DZI
    missing = [url for url in report.tile_urls if not (output / urlsplit(url).path.lstrip("/")).is_file()]
    assert report.tile_urls and missing == []
