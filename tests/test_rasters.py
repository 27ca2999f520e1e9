"""Strip-wise reading of PPM/PGM, whole decodes through OpenCV, and the errors a user can cause."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dzbuild.errors import SourceError
from dzbuild.io.rasters import DecodedRaster, PnmRaster, open_raster
from dzbuild.testing import synthetic_image


def write_pnm(path, pixels, comment: bytes = b"") -> None:
    """A binary PPM (BGR pixels are stored as RGB) or PGM (2-D pixels)."""
    magic, data = (b"P5", pixels) if pixels.ndim == 2 else (b"P6", pixels[:, :, ::-1])
    height, width = pixels.shape[:2]
    path.write_bytes(magic + b"\n" + comment + b"%d %d\n255\n" % (width, height) + np.ascontiguousarray(data).tobytes())


def test_ppm_strips_are_the_pixels_in_opencv_order(tmp_path):
    pixels = synthetic_image(300, 170, seed=3)
    write_pnm(tmp_path / "a.ppm", pixels, comment=b"# made by a test\n")
    raster = open_raster(tmp_path / "a.ppm")
    assert isinstance(raster, PnmRaster) and (raster.width, raster.height) == (300, 170)
    assert np.array_equal(raster.strip(0, 64), pixels[:64])
    assert np.array_equal(raster.strip(128, 170), pixels[128:])
    raster.close()


def test_pgm_strips_become_three_equal_channels(tmp_path):
    grey = synthetic_image(40, 30)[:, :, 1].copy()
    write_pnm(tmp_path / "g.pgm", grey)
    strip = open_raster(tmp_path / "g.pgm").strip(10, 20)
    assert strip.shape == (10, 40, 3) and all(np.array_equal(strip[:, :, c], grey[10:20]) for c in range(3))


def test_other_formats_are_decoded_whole_by_opencv(tmp_path):
    pixels = synthetic_image(90, 60)
    cv2.imwrite(str(tmp_path / "a.png"), pixels)
    raster = open_raster(tmp_path / "a.png")
    assert isinstance(raster, DecodedRaster) and np.array_equal(raster.strip(0, 60), pixels)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"P6\n4 4\n255\n" + b"\0" * 47, "truncated"),
        (b"P6\n4 4\n65535\n" + b"\0" * 96, "only 8-bit"),
        (b"P3\n1 1\n255\n0 0 0\n", "only binary"),
        (b"P6\n4 x\n255\n", "corrupt PNM header"),
        (b"not a picture at all", "OpenCV cannot read it"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.ppm"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as error:
        open_raster(path)
    assert str(path) in str(error.value)


def test_a_picture_above_opencvs_pixel_limit_says_how_to_read_it(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(64, 64))
    monkeypatch.setenv("CV_IO_MAX_IMAGE_PIXELS", "4000")
    with pytest.raises(SourceError, match="above OpenCV's limit of 4000.*PPM"):
        open_raster(tmp_path / "a.png")
