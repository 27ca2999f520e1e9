"""An item's level image comes from its member's own stored tiles, stitched, never resampled again."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from imagedirs import make_image_dir, stitch

from dzbuild.collection.planner import Member
from dzbuild.collection.thumbs import ItemImage, Piece, item_image, load_item_image
from dzbuild.errors import SourceError
from dzbuild.pyramid.build import BuildOptions, build_pyramid


@pytest.mark.parametrize("tile_size", [32, 256])
def test_item_image_is_the_members_own_level(tmp_path: Path, tile_size: int):
    image_dir, spec, _ = make_image_dir(tmp_path, 300, 200, tile_size, seed=3)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    dest, grid = image_dir / "dest", spec.grid
    member = Member("x", 0, 1, 300, 200, tile_size, 0, "jpg", (0,) * 12)
    for level in (0, 3, 8, 9, 11):  # 9 is the member's full resolution; 11 is beyond it
        image = item_image(member, str(dest), level)
        own = min(level, grid.max_level)
        assert (image.width, image.height) == grid.level_size(own)
        assert len(image.pieces) == grid.tile_count(own)
        assert np.array_equal(load_item_image(image), stitch(dest, 0, grid, own))


def test_overlap_is_cut_off_when_stitching(tmp_path: Path):
    """Two 8 px tiles with a 2 px overlap, as a DZI with Overlap=2 stores them."""
    rng = np.random.default_rng(0)
    full = rng.integers(0, 256, (5, 13, 3), dtype=np.uint8)
    left, right = full[:, 0:10], full[:, 6:13]  # tile 0: 8 + 2 overlap on the right; tile 1: 2 on the left
    for name, pixels in (("0_0.png", left), ("1_0.png", right)):
        cv2.imwrite(str(tmp_path / name), pixels)
    pieces = (Piece(str(tmp_path / "0_0.png"), 0, 0, 8, 5, 0, 0), Piece(str(tmp_path / "1_0.png"), 8, 0, 5, 5, 2, 0))
    assert np.array_equal(load_item_image(ItemImage(13, 5, pieces)), full)


def test_missing_or_short_member_tiles_name_the_file(tmp_path: Path):
    missing = ItemImage(4, 4, (Piece(str(tmp_path / "0_0.png"), 0, 0, 4, 4, 0, 0),))
    with pytest.raises(SourceError, match="0_0.png: member tile is missing"):
        load_item_image(missing)
    cv2.imwrite(str(tmp_path / "0_0.png"), np.zeros((2, 4, 3), np.uint8))
    with pytest.raises(SourceError, match=r"0_0.png: member tile is 4x2 pixels"):
        load_item_image(missing)


def test_a_member_with_overlap_gives_the_same_picture(tmp_path: Path):
    """Tiles of an overlapping DZI are cut back to their own box: no seam where two tiles meet."""
    images = {}
    for overlap in (0, 2):
        image_dir, _, _ = make_image_dir(tmp_path / f"o{overlap}", 300, 200, 32, seed=5, overlap=overlap)
        build_pyramid(image_dir, options=BuildOptions(jobs=1))
        member = Member("x", 0, 1, 300, 200, 32, overlap, "jpg", (0,) * 9)
        images[overlap] = load_item_image(item_image(member, str(image_dir / "dest"), 8)).astype(np.float64)
    assert images[0].shape == images[2].shape == (100, 150, 3)
    per_column = np.abs(images[0] - images[2]).mean(axis=(0, 2))
    assert per_column.max() < 10, f"column {per_column.argmax()} differs by {per_column.max():.1f} on average"
