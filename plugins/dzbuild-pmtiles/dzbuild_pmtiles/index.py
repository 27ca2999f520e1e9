"""A version's index: which archive, of this version or an older one, holds each of its tiles.

The viewer reads it first; it is JSON, small (one number per 2x2-tile block, plus the tiles a
patch moved), and the whole of what a reader needs besides the archives themselves.
"""

from __future__ import annotations

import json

from dzbuild.api import Grid, PyramidSpec, Tile

from .grouping import BLOCK, one_tile_level

KIND = "dzbuild-pmtiles"
LAYOUT = 1  # the index layout's version: readers refuse one they do not know


def archive_url(version: int, name: str) -> str:
    """An archive's address relative to any version's index (they are sibling folders)."""
    return f"../v{version}/{name}.pmtiles"


def locations(data: bytes, grid: Grid) -> dict[Tile, str]:
    """Every tile an index covers, with its archive's relative URL."""
    doc = json.loads(data)
    if doc.get("kind") != KIND or doc.get("layout") != LAYOUT:
        raise ValueError(f"not a {KIND} index of layout {LAYOUT}")
    archives, moved = archive_urls(doc["archives"]), doc["tiles"]
    found = {}
    for level in range(doc["min_level"], grid.max_level + 1):
        blocks, per_row = doc["blocks"][str(level)], _block_columns(grid, level)
        for tile in grid.tiles(level):
            held = moved.get(f"{level}/{tile.col}/{tile.row}")
            if held is None:
                held = blocks[(tile.row // BLOCK) * per_row + tile.col // BLOCK]
            found[tile] = archives[held]
    return found


def archive_urls(listed: dict[str, list[str]]) -> list[str]:
    """The index's ``archives`` (``{version: [name, ...]}``) as the URLs its positions number, in order."""
    return [archive_url(int(version), name) for version in sorted(listed, key=int) for name in listed[version]]


def index_document(spec: PyramidSpec, grid: Grid, version: int, found: dict[Tile, str]) -> bytes:
    """The index of ``version``, given the archive of every tile from the one-tile level up."""
    archives = sorted(set(found.values()), key=_archive_order)
    number = {url: n for n, url in enumerate(archives)}
    blocks, moved = {}, {}
    first = one_tile_level(grid)
    for level in range(first, grid.max_level + 1):
        per_row = _block_columns(grid, level)
        row_count = -(-grid.tile_counts(level).height // BLOCK)
        corners = [found[Tile(level, bx * BLOCK, by * BLOCK)] for by in range(row_count) for bx in range(per_row)]
        blocks[str(level)] = [number[url] for url in corners]
        for tile in grid.tiles(level):
            corner = corners[(tile.row // BLOCK) * per_row + tile.col // BLOCK]
            if found[tile] != corner:
                moved[f"{level}/{tile.col}/{tile.row}"] = number[found[tile]]
    doc = {
        "kind": KIND,
        "layout": LAYOUT,
        "version": version,
        **{"width": spec.width, "height": spec.height, "tile_size": spec.tile_size, "overlap": spec.overlap},
        "format": spec.format,
        "min_level": first,
        "max_level": grid.max_level,
        "block": BLOCK,
        "archives": _by_version(archives),
        "blocks": blocks,
        "tiles": moved,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"


def _by_version(urls: list[str]) -> dict[str, list[str]]:
    """``{"0": ["11-0-0", ...], ...}``: sorted URLs as names per version folder, half the bytes of the URLs."""
    listed: dict[str, list[str]] = {}
    for url in urls:
        version, name = _archive_order(url)
        listed.setdefault(str(version), []).append(name.removesuffix(".pmtiles"))
    return listed


def _block_columns(grid: Grid, level: int) -> int:
    return -(-grid.tile_counts(level).width // BLOCK)


def _archive_order(url: str) -> tuple[int, str]:
    """Oldest version first, then by name: ``../v12/low.pmtiles`` -> ``(12, "low.pmtiles")``."""
    folder, name = url.split("/")[1:]
    return int(folder[1:]), name
