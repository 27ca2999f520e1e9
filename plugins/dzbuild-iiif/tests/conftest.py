"""The plugin is registered in-process by a fixture, as it would be through its entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys._dzbuild_called_from_test = True  # installed entry points stay out of in-process tests


@pytest.fixture(autouse=True)
def iiif_plugin():
    import dzbuild_iiif

    from dzbuild.testing import plugin_registered

    with plugin_registered(dzbuild_iiif, "iiif") as plugin:
        yield plugin


@pytest.fixture
def make_image(tmp_path):
    """``make_image(width, height, ...)``: an image folder with a complete v0 of a synthetic picture."""
    from dzbuild.testing import make_image_folder

    def make(width: int, height: int, tile_size: int = 256, fmt: str = "jpg", overlap: int = 0) -> Path:
        folder = tmp_path / f"img{width}x{height}o{overlap}"
        return make_image_folder(folder, width, height, tile_size, fmt=fmt, overlap=overlap, seed=width + height)

    return make
