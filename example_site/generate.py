"""Generate the example site's source tiles (they are not committed: the script is the fixture).

Run from anywhere: ``python example_site/generate.py``, then ``dzbuild build example_site``. It is
idempotent: an image folder whose version folders already exist is left alone, so published
versions never change under you. ``generate(folder)`` writes the same site into another folder
(the browser test does this in a temporary folder).

The site: ``harbour`` (two versions: v1 retouches one tile right of the middle, so the compare
view's default swipe, older version left of the divider, shows the change on the newer side), and
a ``gallery`` folder whose ``collection.toml`` makes its three images a Deep Zoom collection. ``pyramid.json`` files are
committed; pictures are synthetic (``dzbuild.testing.synthetic_image``), so nothing here has a
copyright.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dzbuild.grid import Tile
from dzbuild.pyramid.spec import SPEC_FILE, load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.testing import synthetic_image

SITE = Path(__file__).resolve().parent
SEEDS = {"harbour": 7, "gallery/dunes": 11, "gallery/reef": 23, "gallery/orchard": 5}
COMMITTED = ("dzbuild.toml", "gallery/collection.toml", *(f"{rel}/{SPEC_FILE}" for rel in SEEDS))


def image(folder: Path, seed: int) -> None:
    """Write v0 (every full-resolution tile) unless it exists."""
    spec = load_spec(folder)
    if not (folder / "v0").exists():
        write_tiles(folder / "v0", synthetic_image(spec.width, spec.height, seed=seed), spec)


HARBOUR_V1_TILE = (4, 1)  # (col, row) of the retouched 256 px tile: right of the middle of 6 x 4


def harbour_v1(folder: Path) -> None:
    """A second version that retouches one tile (a tinted sign) on the right half of the picture."""
    if (folder / "v1").exists():
        return
    spec = load_spec(folder)
    patched = synthetic_image(spec.width, spec.height, seed=SEEDS["harbour"])
    col, row = HARBOUR_V1_TILE
    x, y = col * spec.tile_size, row * spec.tile_size
    sign = (slice(y + 40, y + 200), slice(x + 40, x + 220))
    patched[sign] = patched[sign] // 2 + (0, 90, 160)
    write_tiles(folder / "v1", patched, spec, [Tile(spec.grid.max_level, col, row)])


def generate(site: Path = SITE) -> None:
    """Make the example site's tiles in ``site``, copying its committed files there first if needed."""
    for rel in COMMITTED:
        if not (site / rel).exists():
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SITE / rel, site / rel)
    for rel, seed in SEEDS.items():
        image(site / rel, seed)
    harbour_v1(site / "harbour")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SITE
    generate(target)
    print(f"example tiles ready under {target}; now run: dzbuild build {target}")
