"""The codec floor for pre-cut input: what a pyramid build cannot avoid spending in the codecs.

Decoding every base tile once plus encoding every upper tile once, on one core, timed around the
codec calls only (file reading and the resampling of the stand-in pixels are not counted). Timed
in CPU seconds of this thread, so a busy machine does not inflate the floor. The
ideal on N cores is this divided by N. The half-scale (DCT-domain) decode that the ``dct``
resampler uses is timed too, as the cheaper floor that resampler could approach.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dzbuild.grid import Grid


@dataclass
class Floor:
    decode: float  # seconds for every base tile, full-size decode
    decode_half: float  # the same tiles decoded at half size in the DCT domain
    encode: float  # seconds for every upper tile
    decode_upper: float  # half-size decode of every upper tile but the root (a parent reads its children back)
    base_tiles: int
    upper_tiles: int

    @property
    def one_core(self) -> float:
        return self.decode + self.encode

    @property
    def one_core_half(self) -> float:
        return self.decode_half + self.encode

    @property
    def design(self) -> float:
        """What the ``dct`` resampler cannot avoid: every child half-decoded from its JPEG, every parent encoded."""
        return self.decode_half + self.decode_upper + self.encode

    def ideal(self, cores: int) -> float:
        return self.one_core / cores


def codec_floor(tiles_dir: Path, grid: Grid, quality: int) -> Floor:
    """Time the decodes of ``tiles_dir``'s base tiles and the encodes of a real pyramid's upper tiles."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        decode, decode_half, level = _decode_base(tiles_dir, grid)
        encode, decode_upper, upper = _encode_upper(level, grid, quality)
    finally:
        cv2.setNumThreads(threads)
    return Floor(decode, decode_half, encode, decode_upper, grid.tile_count(grid.max_level), upper)


def _decode_base(tiles_dir: Path, grid: Grid) -> tuple[float, float, np.ndarray]:
    """Decode every base tile (timed) and keep its half-size average as the next level (not timed)."""
    top = grid.max_level
    width, height = grid.level_size(top - 1)
    level = np.empty((height, width, 3), np.uint8)
    full = half = 0.0
    for tile in grid.tiles(top):
        data = np.frombuffer((tiles_dir / f"{tile.col}_{tile.row}.jpg").read_bytes(), np.uint8)
        started = time.thread_time()
        pixels = cv2.imdecode(data, cv2.IMREAD_COLOR)
        full += time.thread_time() - started
        started = time.thread_time()
        cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2)
        half += time.thread_time() - started
        small = _halve(pixels)
        px, py = tile.col * grid.tile_size // 2, tile.row * grid.tile_size // 2
        level[py : py + small.shape[0], px : px + small.shape[1]] = small
    return full, half, level


def _encode_upper(level: np.ndarray, grid: Grid, quality: int) -> tuple[float, float, int]:
    """Encode every tile of every level above the base, cut from successively halved levels.

    Each encoded tile but the root is also decoded back at half size, as its parent will be.
    """
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    spent = decoded = 0.0
    count = 0
    for number in range(grid.max_level - 1, -1, -1):
        for tile in grid.tiles(number):
            x, y, w, h = grid.tile_bounds(tile)
            pixels = np.ascontiguousarray(level[y : y + h, x : x + w])
            started = time.thread_time()
            _, data = cv2.imencode(".jpg", pixels, params)
            spent += time.thread_time() - started
            count += 1
            if number:
                started = time.thread_time()
                cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2)
                decoded += time.thread_time() - started
        if number:
            level = _halve(level)
    return spent, decoded, count


def _halve(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    if width % 2 or height % 2:
        pixels = cv2.copyMakeBorder(pixels, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(pixels, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)
