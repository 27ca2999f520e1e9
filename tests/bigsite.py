"""A site of 2,500 tiny images (40 x 30 pixels, 64-pixel tiles: seven one-tile levels each), built once
per test session for the tests of a big site's index and host rules. Generated cheaply: one source
tile per image, written as bytes of one shared JPEG."""

from __future__ import annotations

import pytest
from sites import add_image, make_site

from dzbuild.site.build import build_site

IMAGES = 2500
WIDTH, HEIGHT, TILE = 40, 30, 64


def image_name(number: int) -> str:
    """Names a filter can tell apart: ``plate-0001`` ... with every tenth image in a folder by decade."""
    return f"decade-{number // 100:02d}/plate-{number:04d}" if number % 10 == 0 else f"plate-{number:04d}"


@pytest.fixture(scope="session")
def big_site(tmp_path_factory):
    """The built site's root; ``_site`` holds the output (host Cloudflare Pages, ``base_url`` "/")."""
    root = tmp_path_factory.mktemp("bigsite")
    site = make_site(root, 'host = "cloudflare-pages"\ntitle = "Plates"\n', images=())
    first, _ = add_image(site, image_name(0), WIDTH, HEIGHT, TILE)
    tiles = {path.relative_to(first): path.read_bytes() for path in first.rglob("*") if path.is_file()}
    for number in range(1, IMAGES):
        folder = site / image_name(number)
        for rel, data in tiles.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    report = build_site(site, progress="quiet")
    assert report.images == IMAGES
    return site
