"""Deterministic, natural-looking benchmark pictures of any size, generated in strips and cached.

``dzbuild.testing.synthetic_image`` builds its picture in float all at once, which at 32768^2
would need ~13 GB and minutes. This generator paints the same kind of picture (layered smooth
noise, discs with soft edges, fine grain) one strip of rows at a time. Every octave has a fixed
size *in pixels*, so a bigger image is a bigger piece of the same kind of landscape and one of its
tiles costs the codecs the same: time per tile stays comparable across sizes (target 5 of
``bench/run.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np

from dzbuild.grid import Tile
from dzbuild.io import codec
from dzbuild.pyramid.spec import PyramidSpec
from dzbuild.pyramid.tiling import write_spec

GENERATOR = "strips-1"  # bump when the pictures change, so cached images are regenerated
CELL_SIZES = tuple(16 << k for k in range(9))  # octave node spacing in pixels: 16 .. 4096
COARSE = 8  # the smooth field is summed at 1/8 resolution, then upsampled per strip
DISCS_PER_MEGAPIXEL = 0.25
GRAIN = 5  # +- grey levels of per-pixel grain
GRAIN_ROWS = 64  # grain is drawn in aligned blocks of rows so any strip sees the same values
TILE_SIZE, QUALITY = 256, 85


class NaturalImage:
    """A ``width x height`` picture whose rows can be produced in any order, deterministically."""

    def __init__(self, width: int, height: int, seed: int = 0) -> None:
        self.width, self.height, self.seed = width, height, seed
        rng = np.random.default_rng(seed)
        self.field = self._smooth_field(rng)
        count = max(4, int(width * height / 1e6 * DISCS_PER_MEGAPIXEL))
        radii = np.exp(rng.uniform(np.log(6), np.log(max(8, min(width, height) // 8)), count))
        centres = rng.integers(0, (width, height), (count, 2))
        colours = rng.integers(0, 256, (count, 3))
        discs = zip(centres, radii, colours, strict=True)
        self.discs = [(int(x), int(y), int(r), tuple(map(int, c))) for (x, y), r, c in discs]

    def _smooth_field(self, rng) -> np.ndarray:
        """Colour (3 channels) and a ridge signal (1), each a sum of cubic-interpolated random grids.

        Sampled every COARSE pixels: every octave is at least twice that, so nothing is lost.
        """
        cols, rows = -(-self.width // COARSE), -(-self.height // COARSE)
        field = np.zeros((rows, cols, 4), np.float32)
        totals = np.zeros(4, np.float32)
        for cell in CELL_SIZES:
            nodes = rng.random((rows * COARSE // cell + 2, cols * COARSE // cell + 2, 4), dtype=np.float32)
            per_node = cell // COARSE
            size = (nodes.shape[1] * per_node, nodes.shape[0] * per_node)
            big = cv2.resize(nodes, size, interpolation=cv2.INTER_CUBIC)
            colour = (cell / CELL_SIZES[-1]) ** 0.45  # coarse octaves dominate the colour
            ridge = 1.0 if 32 <= cell <= 512 else 0.0  # ridges: a band of mid-size octaves
            weights = np.array([colour, colour, colour, ridge], np.float32)
            field += weights * big[:rows, :cols]
            totals += weights
        return field / totals

    def rows(self, top: int, bottom: int) -> np.ndarray:
        """Pixels of rows ``top..bottom-1`` (uint8, BGR), identical whichever strips they come from."""
        first = max(0, top // COARSE - 2)  # two samples of margin: cubic taps stay inside the block
        last = min(self.field.shape[0], -(-bottom // COARSE) + 2)
        block = self.field[first:last]
        up = cv2.resize(block, (block.shape[1] * COARSE, block.shape[0] * COARSE), interpolation=cv2.INTER_CUBIC)
        offset = top - first * COARSE
        up = up[offset : offset + bottom - top, : self.width]
        colour = (up[..., :3] - 0.5) * 3.0  # stretch the contrast of the averaged octaves
        ridges = np.abs(up[..., 3:] - 0.5) * 12.0  # sharp creases where the ridge signal crosses 0.5
        value = 128.0 + 70.0 * colour - 60.0 * np.exp(-ridges)
        strip = np.clip(value, 0, 255).astype(np.uint8)
        for x, y, radius, colour in self.discs:
            if y + radius >= top - 2 and y - radius < bottom + 2:
                cv2.circle(strip, (x, y - top), radius, colour, thickness=max(1, radius // 6), lineType=cv2.LINE_AA)
        return np.clip(strip.astype(np.int16) + self._grain(top, bottom), 0, 255).astype(np.uint8)

    def _grain(self, top: int, bottom: int) -> np.ndarray:
        first, last = top // GRAIN_ROWS, -(-bottom // GRAIN_ROWS)
        blocks = [
            np.random.default_rng((self.seed, block)).integers(-GRAIN, GRAIN + 1, (GRAIN_ROWS, self.width, 1), np.int16)
            for block in range(first, last)
        ]
        offset = top - first * GRAIN_ROWS
        return np.concatenate(blocks)[offset : offset + bottom - top]

    def pixels(self, strip: int = 1024) -> np.ndarray:
        """The whole picture at once (width x height x 3 bytes)."""
        out = np.empty((self.height, self.width, 3), np.uint8)
        for top in range(0, self.height, strip):
            out[top : top + strip] = self.rows(top, min(self.height, top + strip))
        return out


# -- The cached image folders ----------------------------------------------------------------


class BenchImage:
    """Paths of one benchmark size: the pre-cut image folder, its one-tile patch and the whole JPEG."""

    def __init__(self, root: Path, size: int, seed: int = 0) -> None:
        self.size, self.seed = size, seed
        self.spec = PyramidSpec(size, size, TILE_SIZE, 0, "jpg", QUALITY)
        self.grid = self.spec.grid
        self.dir = root / f"{size}"  # pyramid.json + v0/
        self.patch_dir = root / f"{size}-patch"  # pyramid.json + v0/ (hard links) + v1/ (one tile)
        self.jpeg = root / f"{size}.jpg"
        self.marker = root / f"{size}.json"

    @property
    def patch_tile(self) -> Tile:
        cols, rows = self.grid.tile_counts(self.grid.max_level)
        return Tile(self.grid.max_level, cols // 2, rows // 2)

    def picture(self) -> NaturalImage:
        return NaturalImage(self.size, self.size, self.seed)

    def warm_up(self) -> None:
        """Read every input once (untimed), so no run pays for the page cache the previous one lost."""
        for path in [*(self.dir / "v0").iterdir(), *(self.patch_dir / "v1").iterdir(), self.jpeg]:
            if path.exists():
                path.read_bytes()

    def is_cached(self, whole_jpeg: bool) -> bool:
        try:
            meta = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return False
        same = meta.get("generator") == GENERATOR and meta.get("seed") == self.seed
        return same and (not whole_jpeg or self.jpeg.exists())

    def ensure(self, whole_jpeg: bool = True, log=print) -> None:
        """Generate the folders once; later runs reuse them (the marker is written last)."""
        if self.is_cached(whole_jpeg):
            return
        log(f"generating {self.size}x{self.size} test image (cached for later runs) ...")
        for path in (self.dir, self.patch_dir, self.marker):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        self.jpeg.unlink(missing_ok=True)
        picture = self.picture()
        write_spec(self.dir, self.spec)
        whole = np.empty((self.size, self.size, 3), np.uint8) if whole_jpeg else None
        for row in range(self.grid.tile_counts(self.grid.max_level).height):
            top = row * TILE_SIZE
            strip = picture.rows(top, min(self.size, top + TILE_SIZE))
            _write_tile_row(self.dir / "v0", strip, self.grid, row)
            if whole is not None:
                whole[top : top + strip.shape[0]] = strip
        if whole is not None:
            cv2.imwrite(str(self.jpeg), whole, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
            del whole
        self._make_patch(picture)
        self.marker.write_text(json.dumps({"generator": GENERATOR, "seed": self.seed, "size": self.size}))

    def _make_patch(self, picture: NaturalImage) -> None:
        """``v0`` as hard links (same fingerprints, so a dest built from ``self.dir`` stays valid) + one new tile."""
        write_spec(self.patch_dir, self.spec)
        subprocess.run(["cp", "-al", str(self.dir / "v0"), str(self.patch_dir / "v0")], check=True)
        tile = self.patch_tile
        x, y, w, h = self.grid.tile_bounds(tile)
        pixels = picture.rows(y, y + h)[:, x : x + w].copy()
        cv2.rectangle(pixels, (w // 5, h // 4), (4 * w // 5, 3 * h // 4), (40, 90, 200), thickness=-1)
        cv2.putText(pixels, "v1", (w // 3, 2 * h // 3), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 4, cv2.LINE_AA)
        (self.patch_dir / "v1").mkdir()
        (self.patch_dir / "v1" / f"{tile.col}_{tile.row}.jpg").write_bytes(codec.encode(pixels, "jpg", QUALITY))


def _write_tile_row(folder: Path, strip: np.ndarray, grid, row: int) -> None:
    """Encode one row of base tiles, exactly as ``dzbuild.pyramid.tiling.write_tiles`` would."""
    folder.mkdir(parents=True, exist_ok=True)
    cols = grid.tile_counts(grid.max_level).width
    for col in range(cols):
        tile = Tile(grid.max_level, col, row)
        x, _, w, h = grid.tile_bounds(tile)
        pixels = strip[:h, x : x + w]
        (folder / f"{col}_{row}.jpg").write_bytes(codec.encode(pixels, "jpg", QUALITY))
