"""Header sniffing against files OpenCV writes: codec, size (never transposed), channels, bit depth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dzbuild.io.imageinfo import ImageInfo, NotAnImage, sniff

WIDTH, HEIGHT = 37, 21  # not square, so a width/height mix-up shows


def encoded(ext: str, channels: int, dtype=np.uint8, params=()) -> bytes:
    shape = (HEIGHT, WIDTH) if channels == 1 else (HEIGHT, WIDTH, channels)
    rng = np.random.default_rng(channels)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top, shape, dtype=dtype, endpoint=True)
    ok, buf = cv2.imencode(ext, pixels, list(params))
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize(
    ("ext", "channels", "dtype", "params", "expected"),
    [
        (".jpg", 1, np.uint8, (), ImageInfo("jpg", WIDTH, HEIGHT, 1, 8)),
        (".jpg", 3, np.uint8, (), ImageInfo("jpg", WIDTH, HEIGHT, 3, 8)),
        (".jpg", 3, np.uint8, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1), ImageInfo("jpg", WIDTH, HEIGHT, 3, 8)),
        (".png", 1, np.uint8, (), ImageInfo("png", WIDTH, HEIGHT, 1, 8)),
        (".png", 3, np.uint8, (), ImageInfo("png", WIDTH, HEIGHT, 3, 8)),
        (".png", 4, np.uint8, (), ImageInfo("png", WIDTH, HEIGHT, 4, 8)),
        (".png", 3, np.uint16, (), ImageInfo("png", WIDTH, HEIGHT, 3, 16)),
        (".png", 1, np.uint16, (), ImageInfo("png", WIDTH, HEIGHT, 1, 16)),
    ],
    ids=["jpg-grey", "jpg-rgb", "jpg-progressive", "png-grey", "png-rgb", "png-rgba", "png-rgb16", "png-grey16"],
)
def test_headers_written_by_opencv(ext, channels, dtype, params, expected):
    assert sniff(encoded(ext, channels, dtype, params)) == expected


def test_webp_lossy_and_lossless():
    if not cv2.haveImageWriter(".webp"):
        pytest.skip("this OpenCV build writes no WebP")
    lossy = sniff(encoded(".webp", 3, params=(cv2.IMWRITE_WEBP_QUALITY, 80)))
    lossless = sniff(encoded(".webp", 3, params=(cv2.IMWRITE_WEBP_QUALITY, 101)))
    assert (lossy.codec, lossy.width, lossy.height) == ("webp", WIDTH, HEIGHT)
    assert (lossless.codec, lossless.width, lossless.height) == ("webp", WIDTH, HEIGHT)


def test_jpeg_with_metadata_before_the_frame_header():
    plain = encoded(".jpg", 3)
    comment = b"hello from a camera" * 5
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    assert sniff(plain[:2] + segment + plain[2:]) == ImageInfo("jpg", WIDTH, HEIGHT, 3, 8)


def test_sniffing_reads_only_the_header():
    jpeg, png = encoded(".jpg", 3), encoded(".png", 3)
    assert sniff(jpeg[:700]).width == WIDTH  # the frame header comes before the scan
    assert sniff(png[:40]).height == HEIGHT


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a" + bytes(20), b"BM" + bytes(40), b"not an image", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n" + bytes(8)],
    ids=["empty", "gif", "bmp", "text", "jpeg-magic-only", "png-magic-only"],
)
def test_other_bytes_are_not_images(data):
    with pytest.raises(NotAnImage):
        sniff(data)


def test_truncated_headers_are_not_images():
    jpeg, png = encoded(".jpg", 3), encoded(".png", 3)
    with pytest.raises(NotAnImage, match="JPEG"):
        sniff(jpeg[:20])
    with pytest.raises(NotAnImage, match="PNG"):
        sniff(png[:20])


def test_corrupt_jpeg_marker_is_not_an_image():
    jpeg = bytearray(encoded(".jpg", 3))
    after_first = 4 + int.from_bytes(jpeg[4:6], "big")
    jpeg[after_first] = 0x00  # the second segment no longer starts with 0xFF
    with pytest.raises(NotAnImage, match="corrupt JPEG"):
        sniff(bytes(jpeg))
