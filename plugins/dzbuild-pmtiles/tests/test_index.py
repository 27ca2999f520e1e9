"""The index: every tile's archive survives writing and reading, across versions numbered past 9."""

from __future__ import annotations

import json

from dzbuild_pmtiles.grouping import one_tile_level
from dzbuild_pmtiles.index import archive_url, index_document, locations

from dzbuild.grid import Grid, Tile
from dzbuild.pyramid.spec import PyramidSpec


def test_locations_read_back_what_the_index_was_written_from():
    spec = PyramidSpec(1500, 1000, 256)
    grid = spec.grid
    tiles = [t for level in range(one_tile_level(grid), grid.max_level + 1) for t in grid.tiles(level)]
    found = {tile: archive_url(0, f"{tile.level}-{tile.col // 2}-{tile.row // 2}") for tile in tiles}
    found[Tile(11, 3, 2)] = archive_url(12, "11-1-1")  # a tile a later version moved, alone in its block
    found[Tile(10, 0, 0)] = archive_url(2, "chain-0-0")  # a block's corner: the block's others stay behind
    data = index_document(spec, grid, 12, found)
    assert locations(data, grid) == found
    doc = json.loads(data)
    assert doc["archives"]["12"] == ["11-1-1"] and doc["archives"]["2"] == ["chain-0-0"]
    assert doc["tiles"] == {"11/3/2": len(doc["archives"]["0"]) + 1, "10/1/0": 0, "10/0/1": 0, "10/1/1": 0}
    assert doc["blocks"]["10"][0] == len(doc["archives"]["0"])  # versions in number order: 0, then 2, then 12
    assert Grid(1500, 1000, 256).max_level == doc["max_level"]
