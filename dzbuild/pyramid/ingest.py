"""Cut one large picture into base tiles: a complete ``v0/`` at first, then only what changed.

The first ingest into a folder writes ``pyramid.json`` and ``v0/``. Each later one writes
``v{n}/`` holding only the tiles whose pixels differ from what the latest version shows, so a
re-export of a slightly edited scan becomes a small patch that ``dzbuild pyramid`` publishes.

How a tile is compared: the new tile is encoded exactly as it would be written, then compared
with the file the latest version holds for that place (the newest ``v{k}/`` that has it). Equal
bytes mean equal pixels, and re-encoding identical pixels with the same OpenCV and quality gives
identical bytes, so the unchanged part of a picture ingested before costs no decode. Otherwise
both are decoded and compared pixel by pixel: a lossless tile made by another tool still counts
as unchanged when it shows the same pixels. A JPEG tile cut by another encoder from the same
picture decodes a little differently, so the first ingest over hand-cut JPEG tiles (or of a
re-saved JPEG) rewrites every tile unless ``tolerance`` (the largest per-channel difference still
counted as equal) absorbs it.

Memory is a few strips of ``tile_size`` rows (see ``rasters``), whatever the picture's size.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, SourceError
from ..grid import Tile
from ..io import codec
from ..io.files import PARTIAL_MARK, remove_path, sweep_partials
from ..io.lock import locked
from ..io.rasters import open_raster
from .sources import scan_version, version_dirs, version_number
from .spec import SPEC_FILE, TILE_FORMATS, PyramidSpec, load_spec, parse_spec
from .tiling import write_spec

DEFAULTS = {"tile_size": 256, "format": "jpg", "quality": 85}
FORMAT_ALIASES = {"jpeg": "jpg"}  # what people type for the tile format pyramid.json calls jpg


@dataclass
class IngestReport:
    image_dir: str
    version: int | None  # the version written, or None when no tile changed
    written: int
    unchanged: int
    width: int
    height: int
    seconds: float = 0.0

    def summary(self) -> dict:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def ingest(
    image_file: Path | str,
    image_dir: Path | str,
    tile_size: int | None = None,
    quality: int | None = None,
    fmt: str | None = None,
    tolerance: int = 0,
) -> IngestReport:
    """Write the tiles of ``image_file`` that differ from the latest version into a new ``v{n}/``."""
    started = time.perf_counter()
    image_file, image_dir = Path(image_file), Path(image_dir)
    if not 0 <= tolerance <= 255:
        raise ConfigError(f"--tolerance must be between 0 and 255, got {tolerance}")
    fmt = tile_format(fmt)
    raster = open_raster(image_file)
    try:
        with locked(image_dir, keep_file=False):  # the image folder is the user's: no litter
            sweep_partials(image_dir)  # a version a killed ingest was cutting
            versions = _versions(image_dir)
            options = {"tile_size": tile_size, "format": fmt, "quality": quality}
            spec = _spec(image_dir, image_file, raster, bool(versions), options)
            latest = _latest_tiles(versions, spec)
            written, unchanged = _write_version(image_dir, len(versions), spec, raster, latest, tolerance)
    finally:
        raster.close()
    version = len(versions) if written else None
    report = IngestReport(str(image_dir), version, written, unchanged, raster.width, raster.height)
    report.seconds = time.perf_counter() - started
    return report


def tile_format(fmt: str | None) -> str | None:
    """``--format`` as ``pyramid.json`` spells it (``JPEG`` is ``jpg``); one it cannot be is an error of the option."""
    if fmt is None:
        return None
    name = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
    if name not in TILE_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(TILE_FORMATS)} (or jpeg), got {fmt!r}")
    return name


def _versions(image_dir: Path) -> list[Path]:
    """The folder's ``v{n}/`` folders, or none for a new image folder."""
    if not any(version_number(entry.name) is not None for entry in os.scandir(image_dir)):
        return []
    return version_dirs(image_dir)


def _spec(image_dir: Path, image_file: Path, raster, has_versions: bool, options: dict) -> PyramidSpec:
    """The folder's spec, checked against the picture; a new one when the folder has none."""
    path = image_dir / SPEC_FILE
    if not path.exists() and not has_versions:
        values = {"width": raster.width, "height": raster.height, "overlap": 0}
        values.update({key: value if value is not None else DEFAULTS[key] for key, value in options.items()})
        try:
            return parse_spec(json.dumps(values), path)  # the same validation as a hand-written file
        except ConfigError as exc:  # the file does not exist yet: blame the option (or the picture's size)
            key = next((key for key in values if exc.message.startswith(repr(key))), None)
            blamed = f"--{key.replace('_', '-')} {values[key]}" if key in options else None
            raise ConfigError(exc.message, blamed or image_file) from None
    spec = load_spec(image_dir)
    if (raster.width, raster.height) != (spec.width, spec.height):
        raise SourceError(
            f"is {raster.width}x{raster.height} pixels but {path} says {spec.width}x{spec.height}:"
            " a size change cannot be a patch; ingest it into a new image folder",
            image_file,
        )
    for key, value in options.items():
        if value is not None and value != getattr(spec, key):
            flag = "--" + key.replace("_", "-")
            raise ConfigError(
                f"{key!r} is {getattr(spec, key)!r}, so {flag} {value} would change every tile;"
                f" leave {flag} out, or use a new image folder",
                path,
            )
    return spec


def _latest_tiles(versions: list[Path], spec: PyramidSpec) -> dict[Tile, Path]:
    """For every base tile, the file of the newest version that holds it."""
    latest: dict[Tile, Path] = {}
    for number in range(len(versions) - 1, -1, -1):
        source = scan_version(versions[number], number, spec.grid, spec.format)
        for tile in source.tiles:
            latest.setdefault(tile, source.path / f"{tile.col}_{tile.row}.{spec.format}")
    return latest


def _write_version(image_dir: Path, number: int, spec: PyramidSpec, raster, latest, tolerance: int):
    """Cut, compare and write into a hidden folder, then rename it to ``v{number}`` in one step."""
    tmp = image_dir / f".v{number}{PARTIAL_MARK}{os.getpid()}"
    tmp.mkdir()
    try:
        written, unchanged = _cut(raster, spec, tmp, latest, tolerance)
        if written:
            if number == 0 and not (image_dir / SPEC_FILE).exists():
                write_spec(image_dir, spec)
            os.rename(tmp, image_dir / f"v{number}")
    finally:
        if tmp.exists():
            remove_path(tmp)
    return written, unchanged


def _cut(raster, spec: PyramidSpec, folder: Path, latest: dict[Tile, Path], tolerance: int) -> tuple[int, int]:
    """Read one strip of tile rows at a time; write each tile that differs from ``latest``."""
    grid, size = spec.grid, spec.tile_size
    level = grid.max_level
    cols, rows = grid.tile_counts(level)
    written = unchanged = 0
    for row in range(rows):
        strip = raster.strip(row * size, min((row + 1) * size, spec.height))
        for col in range(cols):
            tile = Tile(level, col, row)
            data = codec.encode(strip[:, col * size : (col + 1) * size], spec.format, spec.quality)
            previous = latest.get(tile)
            if previous is not None and same_pixels(data, previous, tolerance):
                unchanged += 1
                continue
            (folder / f"{col}_{row}.{spec.format}").write_bytes(data)
            written += 1
    return written, unchanged


def same_pixels(data: bytes, path: Path, tolerance: int = 0) -> bool:
    """Whether encoded ``data`` shows the pixels of the tile file ``path`` (within ``tolerance``)."""
    old = path.read_bytes()
    if old == data:
        return True
    np = codec.np()
    new_pixels, old_pixels = codec.decode(data), codec.decode(old, path)
    if new_pixels.shape != old_pixels.shape:
        return False
    if tolerance == 0:
        return bool(np.array_equal(new_pixels, old_pixels))
    return int(np.abs(new_pixels.astype(np.int16) - old_pixels).max()) <= tolerance
