"""Small sites made inline for the site-build tests: files from a dict, images from synthetic pictures.

A stand-in OpenSeadragon folder keeps these tests independent of npm; the browser test uses the
real one.
"""

from __future__ import annotations

import json
from pathlib import Path

from dzbuild.pyramid.spec import PyramidSpec
from dzbuild.pyramid.tiling import write_spec, write_tiles
from dzbuild.testing import synthetic_image

FAKE_OSD = "fake-openseadragon"
# The OpenSeadragon version dzbuild ships, as package.json pins it (the one place it is written).
PINNED = json.loads((Path(__file__).resolve().parents[1] / "package.json").read_text())["dependencies"]["openseadragon"]


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def add_image(
    site: Path, rel: str, width: int = 300, height: int = 200, tile_size: int = 128, seed: int = 0, fmt="jpg"
):
    """An image folder with a complete v0/ (small: a handful of tiles)."""
    spec = PyramidSpec(width, height, tile_size, format=fmt)
    folder = site / rel
    write_spec(folder, spec)
    write_tiles(folder / "v0", synthetic_image(width, height, seed=seed), spec)
    return folder, spec


def fake_openseadragon(root: Path) -> Path:
    """A folder shaped like npm's ``openseadragon/build/openseadragon``."""
    folder = root / FAKE_OSD / "build" / "openseadragon"
    write_files(folder, {"openseadragon.min.js": "/* stand-in */\n", "images/home_rest.png": "png"})
    (root / FAKE_OSD / "package.json").write_text(json.dumps({"version": "0.0.0-test"}))
    return folder


def make_site(root: Path, config: str = "", files: dict[str, str] | None = None, images=("a", "b")) -> Path:
    """A site folder with ``dzbuild.toml`` (``config`` plus a stand-in OpenSeadragon) and ``images``."""
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    osd = fake_openseadragon(root)
    viewer = "" if "[viewer]" in config else f'\n[viewer]\nopenseadragon_dir = "{osd.as_posix()}"\n'
    write_files(site, {"dzbuild.toml": config + viewer, **(files or {})})
    for seed, rel in enumerate(images):
        add_image(site, rel, seed=seed)
    return site
