"""One PMTiles v3 archive of tiles, written and read with the ``pmtiles`` package.

Tiles keep their Deep Zoom address: PMTiles zoom ``z`` is the Deep Zoom level, ``x`` the column,
``y`` the row (a level of ``2^z`` pixels at most has fewer than ``2^z`` tiles a side, so every
address is valid). Tiles are written in tile-id order, uncompressed, as the published files'
bytes; the archive's JSON metadata says which image they belong to.
"""

from __future__ import annotations

from pmtiles.reader import MemorySource, Reader, all_tiles
from pmtiles.tile import Compression, Entry, TileType, zxy_to_tileid
from pmtiles.writer import finalize_header

from dzbuild.api import Tile

TILE_TYPES = {"jpg": TileType.JPEG, "png": TileType.PNG, "webp": TileType.WEBP}


def write_archive(tiles: dict[Tile, bytes], ext: str, metadata: dict) -> bytes:
    """The bytes of an archive holding ``tiles`` (encoded images, as published).

    What ``pmtiles.writer.Writer`` writes, built in memory: the writer spools tile data through a
    temporary file per archive, which costs more than the archive itself at this size. Equal
    tiles (blank ones) are stored once, as the writer does.
    """
    entries, chunks, offsets, size = [], [], {}, 0
    for tile_id, data in sorted((zxy_to_tileid(*tile), data) for tile, data in tiles.items()):
        offset = offsets.get(data)
        if offset is None:
            offset = offsets[data] = size
            chunks.append(data)
            size += len(data)
        entries.append(Entry(tile_id, offset, len(data), 1))
    header = {"tile_type": TILE_TYPES[ext], "tile_compression": Compression.NONE}
    parts = finalize_header(header, len(entries), entries, len(chunks), metadata, True, size)
    return b"".join([*parts, *chunks])


def read_archive(data: bytes) -> dict[Tile, bytes]:
    """Every tile of an archive (for checks and other tools)."""
    return {Tile(*zxy): bytes(tile) for zxy, tile in all_tiles(MemorySource(data))}


def read_tile(data: bytes, tile: Tile) -> bytes | None:
    """One tile of an archive, found through its directory as a range-reading viewer does."""
    found = Reader(MemorySource(data)).get(*tile)
    return None if found is None else bytes(found)
