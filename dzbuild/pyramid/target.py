"""Where one image is built from and to: the value every publishing step receives.

It sits below publishing, overlap cutting and linking, which all need to know where a version's
files live, so that none of them has to import another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..grid import Grid, Tile
from .compute import TileFiles, source_path
from .spec import PyramidSpec


class CoreFolder:
    """The home of computed core tiles when published tiles have overlap: ``dest/core/v{n}/``.

    It holds only the tiles each version computed (no links): readers find a tile's file through
    the owners table. Formats without overlap (IIIF, Zoomify) link to these files. It is laid out
    like a format so that the same linking code serves it, but it is never published.
    """

    name = "core"
    descriptor = ""

    def dirs(self, grid) -> list[str]:
        return [str(level) for level in grid.levels[:-1]]

    def tile_path(self, grid, tile, ext: str) -> str:
        return f"{tile.level}/{tile.col}_{tile.row}.{ext}"

    def descriptors(self, spec, grid, context) -> dict[str, bytes]:
        return {}


CORE_FOLDER = CoreFolder()


@dataclass
class Target:
    """Where one image is built from and to, and with which plugins."""

    image_dir: Path
    dest: Path
    spec: PyramidSpec
    grid: Grid
    resampler: str
    storage: str
    formats: tuple  # format objects; the first holds the physical computed tiles
    base_url: str | None = None  # public URL of ``dest`` when the site declares one

    @property
    def home(self):
        """Where computed tiles physically live: the first format, or ``core/`` with overlap."""
        return self.formats[0] if self.spec.overlap == 0 else CORE_FOLDER

    def version_dir(self, fmt, version: int) -> Path:
        return self.dest / fmt.name / f"v{version}"

    def source_path(self, tile: Tile, owner: int) -> str:
        return source_path(str(self.image_dir), tile, owner, self.spec.format)

    def files(self, version: int, owners, home, current_dir: Path) -> TileFiles:
        """Where each tile of ``version`` physically lives, ``home``'s folder ``current_dir`` being assembled."""
        return TileFiles(
            self.grid, self.spec.format, home, str(self.image_dir), str(self.dest), version, str(current_dir), owners
        )
