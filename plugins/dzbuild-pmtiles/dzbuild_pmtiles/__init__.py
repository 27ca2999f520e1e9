"""PMTiles packs: each version of an image as a few PMTiles v3 archives and one JSON index.

Static hosts count files; a Deep Zoom tree is one file per tile per version. A pack holds the
tiles a version computed (all of them for version 0, the changed tiles and their recomputed
ancestors for a patch) in archives grouped so that a viewer fetching whole archives (hosts that
ignore ``Range``) downloads little more than it shows, and an index saying where every tile of
the version lives, older versions' archives included. See README.md for the layout.
"""

from __future__ import annotations

from dzbuild.api import BuildError, Grid, PyramidSpec, VersionTiles, hookimpl

from .archive import write_archive
from .grouping import group_tiles
from .index import archive_url, index_document, locations

dzbuild_api = "1.1"  # the dzbuild.api version this plugin is written for

INDEX = "index.json"


class PackFormat:
    """The ``pmtiles`` output format: ``dest/pmtiles/v{n}/index.json`` plus ``*.pmtiles`` archives."""

    name = "pmtiles"
    descriptor = INDEX

    def dirs(self, grid: Grid) -> list[str]:
        return []

    def tile_path(self, grid: Grid, tile, ext: str) -> None:
        return None  # no tile has a file of its own

    def descriptors(self, spec: PyramidSpec, grid: Grid, context) -> dict[str, bytes]:
        return {}  # the index is packed with the archives: it needs to know where they are

    def viewer_source(self, descriptor_url: str, spec: PyramidSpec) -> str:
        """The index's URL: OpenSeadragon fetches it and dzbuild's pack tile source recognises it."""
        return descriptor_url

    def pack(self, spec: PyramidSpec, grid: Grid, tiles: VersionTiles):
        """Yield every archive of the version, then its index."""
        found = self._older(grid, tiles)
        metadata = {"dzbuild": {"width": spec.width, "height": spec.height, "tile_size": spec.tile_size,
                                "overlap": spec.overlap, "version": tiles.version}}
        for name, group in group_tiles(grid, tiles.tiles).items():
            data = {tile: _read(tiles.tiles[tile]) for tile in group}
            yield f"{name}.pmtiles", write_archive(data, spec.format, {**metadata, "archive": name})
            found.update(dict.fromkeys(group, archive_url(tiles.version, name)))
        yield INDEX, index_document(spec, grid, tiles.version, found)

    def _older(self, grid: Grid, tiles: VersionTiles) -> dict:
        """Where the tiles this version did not compute live: the previous version's index."""
        if tiles.version == 0:
            return {}
        if tiles.previous is None:
            raise BuildError(f"cannot pack v{tiles.version}: {self.name}/v{tiles.version - 1}/{INDEX} is missing")
        try:
            return locations(tiles.previous, grid)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BuildError(f"cannot pack v{tiles.version}: {self.name}/v{tiles.version - 1}/{INDEX}"
                             f" is damaged ({exc})") from exc


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


@hookimpl
def register_formats(register):
    register(PackFormat())
