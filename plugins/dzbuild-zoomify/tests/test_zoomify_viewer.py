"""OpenSeadragon opens the Zoomify output and finds every tile it can ask for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dzbuild_zoomify import ZoomifyFormat

from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import load_spec
from dzbuild.testing import unavailable
from dzbuild.testing.viewer import OpenSeadragonCheck, ViewerUnavailable

# 1497x515: tiers a pixel narrower than DZI levels; 513x300 and 1027x600: one tier fewer than rounding up gives.
SIZES = [(1497, 515), (513, 300), (1027, 600)]


def test_openseadragon_opens_every_size_without_a_missing_tile(make_image, tmp_path):
    folders = [make_image(w, h) for w, h in SIZES]
    try:
        with OpenSeadragonCheck(tmp_path) as viewer:
            for folder in folders:
                build_pyramid(folder, options=BuildOptions(jobs=1, formats=("dzi", "zoomify")))
                out = f"{folder.name}/dest/zoomify/v0/"
                props = ET.parse(tmp_path / out / "ImageProperties.xml").getroot().attrib
                source = ZoomifyFormat().viewer_source(out + ZoomifyFormat.descriptor, load_spec(folder))
                assert (source["width"], source["height"], source["tileSize"], source["tilesUrl"]) == (
                    int(props["WIDTH"]), int(props["HEIGHT"]), int(props["TILESIZE"]), out)
                report = viewer.open(source)  # what a viewer page of a site gives OpenSeadragon
                assert report.errors == [] and report.failed == [], (folder.name, report.failed, report.errors)
                assert any("/TileGroup0/" in url for url in report.requested)
                missing = [url for url in report.tile_urls if not viewer.local_path(url).is_file()]
                assert report.tile_urls and missing == [], folder.name
                assert report.home_ink > 0.3 and report.deep_ink > 0.3, folder.name  # drawn, not blank
    except ViewerUnavailable as exc:
        unavailable(str(exc))
