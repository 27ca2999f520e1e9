"""Thumbnails straight from the shared tiles: CSS sprites for gallery and index pages.

At level ``L`` a collection tile holds ``(tile_size / 2**L)**2`` thumbnails of at most ``2**L``
pixels, so a page of thumbnails costs one request per tile instead of one per image. Each
sprite is a tile URL plus the item's box inside it, ready for ``background-position``.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..grid import morton_to_xy
from .dzc import Descriptor, DzcItem, read_dzc
from .layout import item_level_size

DEFAULT_SPRITE_LEVEL = 6  # 64 px thumbnails, 16 to a 256 px tile


@dataclass(frozen=True)
class Sprite:
    id: int
    source: str  # the item's own DZI, relative to the page
    url: str  # the shared tile holding the thumbnail, relative to the page
    x: int
    y: int
    width: int
    height: int

    @property
    def style(self) -> str:
        """Inline CSS showing exactly the item's thumbnail (URL percent-encoded, so no quote can end it)."""
        return (
            f'background:url("{self.url}") -{self.x}px -{self.y}px no-repeat;'
            f"width:{self.width}px;height:{self.height}px"
        )


def sprite_level(descriptor: Descriptor, wanted: int = DEFAULT_SPRITE_LEVEL) -> int:
    return max(0, min(wanted, descriptor.max_level))


def sprite_of(descriptor: Descriptor, item: DzcItem, level: int, base_url: str) -> Sprite:
    """Where ``item``'s level-``level`` thumbnail lies; ``base_url`` is the descriptor's URL."""
    per_side = descriptor.tile_size >> level
    col, row = morton_to_xy(item.n)
    width, height = item_level_size(item.width, item.height, level)
    files = base_url[: -len(".dzc")] if base_url.endswith(".dzc") else base_url.rsplit(".", 1)[0]
    url = f"{files}_files/{level}/{col // per_side}_{row // per_side}.{descriptor.format}"
    x, y = (col % per_side) << level, (row % per_side) << level
    return Sprite(item.id, join_url(base_url, item.source), url, x, y, width, height)


def join_url(base_url: str, relative: str) -> str:
    """Resolve a relative URL against a relative base, keeping leading ``..`` (``urljoin`` drops them)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_url), relative))


def collection_sprites(descriptor_path: Path, page_dir: Path, level: int = DEFAULT_SPRITE_LEVEL) -> list[Sprite]:
    """Every live item's sprite, with URLs relative to a page written in ``page_dir``."""
    descriptor = read_dzc(descriptor_path)
    rel = os.path.relpath(os.path.abspath(descriptor_path), os.path.abspath(page_dir))
    base_url = quote(Path(rel).as_posix())
    chosen = sprite_level(descriptor, level)
    return [sprite_of(descriptor, item, chosen, base_url) for item in descriptor.items]
