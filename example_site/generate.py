"""Generate the example site's source tiles (they are not committed: the script is the fixture).

Run from anywhere: ``python example_site/generate.py``, then ``dzbuild build example_site``. It is
idempotent: an image folder whose version folders already exist is left alone, so published
versions never change under you. ``generate(folder)`` writes the same site into another folder
(the browser test does this in a temporary folder).

The site: ``harbour`` (two versions: v1 retouches one corner tile), and a ``gallery`` folder whose
``collection.toml`` makes its three images a Deep Zoom collection. ``pyramid.json`` files are
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


def harbour_v1(folder: Path) -> None:
    """A second version that retouches one corner tile (a tinted sign)."""
    if (folder / "v1").exists():
        return
    spec = load_spec(folder)
    patched = synthetic_image(spec.width, spec.height, seed=SEEDS["harbour"])
    patched[40:200, 40:220] = patched[40:200, 40:220] // 2 + (0, 90, 160)
    write_tiles(folder / "v1", patched, spec, [Tile(spec.grid.max_level, 0, 0)])


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
