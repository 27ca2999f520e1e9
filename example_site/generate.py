"""Generate the example site's source tiles (they are not committed: the script is the fixture).

Run from anywhere: ``python example_site/generate.py``. It is idempotent: an image folder whose
version folders already exist is left alone, so published versions never change under you.
"""

from __future__ import annotations

from pathlib import Path

from dzbuild.grid import Tile
from dzbuild.spec import load_spec
from dzbuild.testing import synthetic_image
from dzbuild.tiling import write_tiles

SITE = Path(__file__).resolve().parent


def harbour() -> None:
    """A 1500x1000 picture in 256 px tiles, and a second version that retouches one corner tile."""
    folder = SITE / "harbour"
    spec = load_spec(folder)
    pixels = synthetic_image(spec.width, spec.height, seed=7)
    if not (folder / "v0").exists():
        write_tiles(folder / "v0", pixels, spec)
    if not (folder / "v1").exists():
        patched = pixels.copy()
        patched[40:200, 40:220] = patched[40:200, 40:220] // 2 + (0, 90, 160)  # a tinted sign
        write_tiles(folder / "v1", patched, spec, [Tile(spec.grid.max_level, 0, 0)])


if __name__ == "__main__":
    harbour()
    print(f"example tiles ready under {SITE}")
