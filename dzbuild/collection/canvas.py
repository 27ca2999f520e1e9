"""Lossless copies of the composed pixels of crowded shared tiles: an update re-reads one file, not every item.

A tile of a low level holds hundreds of cells; recomputing it because one item changed would
decode every neighbour's thumbnail again. So the pixels of tiles with at least
``CANVAS_MIN_CELLS`` cells are also kept, before JPEG encoding, as PNG in
``out_dir/.dzbuild/canvas/{level}/{m}.v{owner}.png``. An update starts from the previous owner's
canvas, blanks the changed cells and pastes their new images. Cells never overlap, so the result
equals a from-scratch composition pixel for pixel and its JPEG is byte-identical. A missing or
unreadable canvas only costs a full composition. The folder is state, never deployed.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io import codec
from ..io.files import PARTIAL_MARK, write_atomic
from ..pyramid.state import STATE_DIR
from .layout import CollectionTile

CANVAS_DIR = "canvas"
CANVAS_MIN_CELLS = 64  # 4 cells or fewer are cheaper to decode again than one 256 px PNG


def canvas_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIR / CANVAS_DIR


def canvas_path(out_dir: Path, tile: CollectionTile, version: int) -> str:
    return f"{canvas_dir(out_dir)}/{tile.level}/{tile.m}.v{version}.png"


def read_canvas(path: str, tile_size: int):
    """The kept pixels, or None when the file is missing or not a whole tile."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    cv2 = codec.cv()
    pixels = cv2.imdecode(codec.np().frombuffer(data, dtype="uint8"), cv2.IMREAD_COLOR)
    if pixels is None or pixels.shape != (tile_size, tile_size, 3):
        return None
    return pixels


def write_canvas(path: str, pixels) -> None:
    """Write under a temporary name and rename, so a reader never sees half a canvas."""
    cv2 = codec.cv()
    ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("OpenCV could not encode a canvas")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(Path(path), [buf.tobytes()])


def prune_canvases(out_dir: Path, owners) -> None:
    """Remove canvases that no published tile owns any more, and half-written ones. Best effort."""
    root = canvas_dir(out_dir)
    if not root.is_dir():
        return
    for level_dir in root.iterdir():
        for path in level_dir.iterdir():
            if not _owned(path.name, int(level_dir.name), owners):
                path.unlink(missing_ok=True)


def discard_canvases(out_dir: Path, version: int) -> None:
    """Remove what an unpublished version kept: no published tile is owned by it."""
    root = canvas_dir(out_dir)
    for path in root.glob(f"*/*.v{version}.png*") if root.is_dir() else ():
        path.unlink(missing_ok=True)


def _owned(name: str, level: int, owners) -> bool:
    if PARTIAL_MARK in name or not name.endswith(".png"):
        return False
    m, _, version = name[: -len(".png")].partition(".v")
    row = owners[level] if level < len(owners) else ()
    return m.isdigit() and version.isdigit() and int(m) < len(row) and row[int(m)] == int(version)
