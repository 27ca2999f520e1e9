"""A storage that records every placement, and a format that writes DZI as JSON.

Written only against ``dzbuild.api``, as a third-party plugin must be. The storage appends one
JSON line per placement to the file named by ``DZBUILD_RECORDER_LOG`` (one ``write`` call per
line, so the build's worker processes never interleave), then copies.
"""

from __future__ import annotations

import json
import os
import shutil

from dzbuild.api import Grid, PyramidSpec, Tile, VersionContext, hookimpl

dzbuild_api = "1.0"  # the dzbuild.api version this plugin is written for

LOG = "DZBUILD_RECORDER_LOG"


def record(**entry) -> None:
    fd = os.open(os.environ[LOG], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
    finally:
        os.close(fd)


class RecordingStorage:
    name = "recording"

    def write(self, path: str, data: bytes) -> None:
        record(op="write", path=os.path.abspath(path))
        with open(path, "xb") as f:
            f.write(data)

    def link(self, target: str, path: str) -> None:
        record(op="link", target=os.path.abspath(target), path=os.path.abspath(path))
        shutil.copyfile(target, path)


class DziJsonFormat:
    """Deep Zoom as OpenSeadragon's JSON form: ``image.json`` beside ``tiles/{level}/{col}_{row}``."""

    name = "dzijson"
    descriptor = "image.json"

    def dirs(self, grid: Grid) -> list[str]:
        return [f"tiles/{level}" for level in grid.levels]

    def tile_path(self, grid: Grid, tile: Tile, ext: str) -> str:
        return f"tiles/{tile.level}/{tile.col}_{tile.row}.{ext}"

    def descriptors(self, spec: PyramidSpec, grid: Grid, context: VersionContext) -> dict[str, bytes]:
        return {self.descriptor: json.dumps(self.image(spec, "tiles/"), indent=1).encode("utf-8")}

    def viewer_source(self, descriptor_url: str, spec: PyramidSpec) -> dict:
        return self.image(spec, descriptor_url[: -len(self.descriptor)] + "tiles/")

    @staticmethod
    def image(spec: PyramidSpec, tiles_url: str) -> dict:
        return {
            "Image": {
                "xmlns": "http://schemas.microsoft.com/deepzoom/2008",
                "Url": tiles_url,
                "Format": spec.format,
                "Overlap": str(spec.overlap),
                "TileSize": str(spec.tile_size),
                "Size": {"Width": str(spec.width), "Height": str(spec.height)},
            }
        }


@hookimpl
def register_storages(register):
    register(RecordingStorage())


@hookimpl
def register_formats(register):
    register(DziJsonFormat())
