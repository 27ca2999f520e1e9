"""Built-in output format: Microsoft Deep Zoom Image (``dzi.xml`` plus ``dzi_files/{level}/{col}_{row}``)."""

from __future__ import annotations

from html import escape

from dzbuild.api import hookimpl

DEEPZOOM_NS = "http://schemas.microsoft.com/deepzoom/2008"


class DziFormat:
    name = "dzi"
    descriptor = "dzi.xml"
    tiles_dir = "dzi_files"

    def dirs(self, grid) -> list[str]:
        return [f"{self.tiles_dir}/{level}" for level in grid.levels]

    def tile_path(self, grid, tile, ext: str) -> str:
        return f"{self.tiles_dir}/{tile.level}/{tile.col}_{tile.row}.{ext}"

    def descriptors(self, spec, grid, context) -> dict[str, bytes]:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Image xmlns="{DEEPZOOM_NS}" TileSize="{spec.tile_size}" Overlap="{spec.overlap}"'
            f' Format="{escape(spec.format)}">\n'
            f'  <Size Width="{spec.width}" Height="{spec.height}"/>\n'
            "</Image>\n"
        )
        return {self.descriptor: xml.encode("utf-8")}

    def viewer_source(self, descriptor_url: str, spec) -> str:
        return descriptor_url  # OpenSeadragon opens a .dzi/.xml URL as a Deep Zoom image


@hookimpl
def register_formats(register):
    register(DziFormat())
