"""OpenSeadragon opens the IIIF output from info.json and finds every tile it can ask for."""

from __future__ import annotations

from dzbuild_iiif import IiifFormat

from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import unavailable
from dzbuild.testing.viewer import OpenSeadragonCheck, ViewerUnavailable

# Edge cases of rounding: 513 (a 1-pixel column and row at two scales), 1497x515 (odd levels), 1001x750;
# and WebP tiles, which info.json declares as the preferred format.
IMAGES = [(1497, 515, "jpg"), (513, 513, "jpg"), (1001, 750, "jpg"), (600, 400, "webp")]


def test_openseadragon_opens_every_size_without_a_missing_tile(make_image, tmp_path):
    folders = [(make_image(w, h, fmt=fmt), fmt) for w, h, fmt in IMAGES]
    try:
        with OpenSeadragonCheck(tmp_path) as viewer:
            for folder, fmt in folders:
                base_url = f"{viewer.base_url}/{folder.name}/dest"
                build_pyramid(folder, options=BuildOptions(jobs=1, formats=("dzi", "iiif"), base_url=base_url))
                source = IiifFormat().viewer_source(f"{folder.name}/dest/iiif/v0/{IiifFormat.descriptor}", None)
                report = viewer.open(source)
                assert report.errors == [] and report.failed == [], (folder.name, report.failed, report.errors)
                assert any(url.endswith(f"/default.{fmt}") for url in report.requested)
                missing = [url for url in report.tile_urls if not viewer.local_path(url).is_file()]
                assert report.tile_urls and missing == [], folder.name
                assert report.home_ink > 0.3 and report.deep_ink > 0.3, folder.name  # drawn, not blank
    except ViewerUnavailable as exc:
        unavailable(str(exc))
