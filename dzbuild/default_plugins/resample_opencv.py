"""Built-in resamplers: exact 2x2 area averaging, and a faster one that halves inside the JPEG decoder."""

from __future__ import annotations

from dzbuild.api import blank_pixels, decode_tile, decode_tile_half, halve, hookimpl


class AreaResampler:
    """Decode the children at full size, join them and take the exact 2x2 mean (OpenCV INTER_AREA)."""

    name = "area"

    def parent(self, children: dict, size: tuple[int, int], tile_size: int):
        decoded = {offset: decode_tile(data) for offset, data in children.items()}
        top_left = decoded[(0, 0)]
        right = decoded.get((1, 0))
        below = decoded.get((0, 1))
        width = top_left.shape[1] + (right.shape[1] if right is not None else 0)
        height = top_left.shape[0] + (below.shape[0] if below is not None else 0)
        mosaic = blank_pixels(width, height)
        for (dx, dy), pixels in decoded.items():
            x, y = dx * tile_size, dy * tile_size
            mosaic[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
        return halve(mosaic)


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
        out = blank_pixels(width, height)
        for (dx, dy), data in children.items():
            pixels = decode_tile_half(data)
            x, y = dx * half, dy * half
            out[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
        return out


@hookimpl
def register_resamplers(register):
    register(AreaResampler())
    register(DctResampler())
