"""Built-in resamplers: exact 2x2 area averaging, and a faster one that halves inside the JPEG decoder."""

from __future__ import annotations

from dzbuild.hookspecs import hookimpl
from dzbuild.io import codec


class AreaResampler:
    """Decode the children at full size, join them and take the exact 2x2 mean (OpenCV INTER_AREA)."""

    name = "area"

    def parent(self, children: dict, size: tuple[int, int], tile_size: int):
        decoded = {offset: codec.decode(data) for offset, data in children.items()}
        top_left = decoded[(0, 0)]
        right = decoded.get((1, 0))
        below = decoded.get((0, 1))
        width = top_left.shape[1] + (right.shape[1] if right is not None else 0)
        height = top_left.shape[0] + (below.shape[0] if below is not None else 0)
        mosaic = codec.np().empty((height, width, 3), dtype="uint8")
        for (dx, dy), pixels in decoded.items():
            x, y = dx * tile_size, dy * tile_size
            mosaic[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
        return codec.halve(mosaic)


class DctResampler(AreaResampler):
    """Let libjpeg decode each JPEG child at half size (DCT-domain scaling), then join the halves.

    About 40% cheaper than a full decode plus averaging. Halves only line up with the parent's
    pixel grid when the tile size is even; odd tile sizes fall back to exact area averaging.
    """

    name = "dct"

    def parent(self, children: dict, size: tuple[int, int], tile_size: int):
        if tile_size % 2:
            return super().parent(children, size, tile_size)
        half = tile_size // 2
        width, height = size
        out = codec.np().empty((height, width, 3), dtype="uint8")
        for (dx, dy), data in children.items():
            pixels = codec.decode_half(data)
            x, y = dx * half, dy * half
            out[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
        return out


@hookimpl
def register_resamplers(register):
    register(AreaResampler())
    register(DctResampler())
