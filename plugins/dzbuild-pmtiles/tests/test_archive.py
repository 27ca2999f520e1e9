"""One archive: the bytes pmtiles' own writer gives, readable by its reader, equal tiles stored once."""

from __future__ import annotations

import io

from dzbuild_pmtiles.archive import read_archive, read_tile, write_archive
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from dzbuild.grid import Tile

TILES = {Tile(9, 1, 0): b"\xff\xd8 one", Tile(8, 0, 0): b"\xff\xd8 top", Tile(9, 0, 1): b"\xff\xd8 three!"}


def test_an_archive_is_what_the_pmtiles_writer_writes():
    out = io.BytesIO()
    writer = Writer(out)
    for tile_id, data in sorted((zxy_to_tileid(*tile), data) for tile, data in TILES.items()):
        writer.write_tile(tile_id, data)
    writer.finalize({"tile_type": TileType.JPEG, "tile_compression": Compression.NONE}, {"a": 1})
    assert write_archive(TILES, "jpg", {"a": 1}) == out.getvalue()


def test_every_tile_reads_back_and_equal_tiles_are_stored_once():
    tiles = {**TILES, Tile(9, 1, 1): TILES[Tile(9, 1, 0)]}
    data = write_archive(tiles, "jpg", {})
    assert read_archive(data) == tiles
    assert all(read_tile(data, tile) == tiles[tile] for tile in tiles) and read_tile(data, Tile(9, 0, 0)) is None
    tile_data_length = int.from_bytes(data[64:72], "little")
    assert tile_data_length == sum(len(tile) for tile in TILES.values())  # the repeated tile is not stored again
