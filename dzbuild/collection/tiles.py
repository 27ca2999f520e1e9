"""Compute shared collection tiles: the code that runs inside a worker process.

A tile is a black square with each live item's level-L image at the top-left of its cell. It
depends only on those images (decoded from the members' stored tiles) and the encoder settings,
so the same tile computed today or in a from-scratch build is byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..io import codec
from ..plugins import registry
from .canvas import read_canvas, write_canvas
from .planner import Member
from .thumbs import item_image, load_item_image

# Cells at the top levels are 1..8 pixels: 4:2:0 chroma subsampling would blend the colours of
# neighbouring items, so collection tiles keep full-resolution chroma.
CHROMA_444 = True


@dataclass(frozen=True)
class TileJob:
    """Plain, picklable description of one tile to compute."""

    out_path: str
    tile_size: int
    level: int
    placements: tuple[tuple[int, int, Member, str], ...]  # every live cell: (x, y), the item, its member's folder
    changed: frozenset[tuple[int, int]] = frozenset()  # cells that differ from the ``base`` canvas
    base: str | None = None  # the previous owner's kept canvas, if any (see canvas.py)
    keep: str | None = None  # where to keep this tile's canvas, for tiles with many cells


@dataclass(frozen=True)
class TileBatch:
    jobs: tuple[TileJob, ...]
    quality: int
    storage: str


def compose(job: TileJob):
    """The tile's pixels: background plus every item image at its cell.

    With a kept canvas only the changed cells are blanked and pasted again; cells never overlap,
    so that gives the very pixels of a full composition.
    """
    canvas = read_canvas(job.base, job.tile_size) if job.base else None
    if canvas is None:
        canvas, todo = codec.blank(job.tile_size, job.tile_size), job.placements
    else:
        cell = 1 << job.level
        for x, y in job.changed:
            canvas[y : y + cell, x : x + cell] = 0
        todo = [p for p in job.placements if (p[0], p[1]) in job.changed]
    for x, y, member, dest in todo:
        image = item_image(member, dest, job.level)
        canvas[y : y + image.height, x : x + image.width] = load_item_image(image)
    if job.keep:
        write_canvas(job.keep, canvas)
    return canvas


def encode_jpeg(pixels, quality: int) -> bytes:
    cv2 = codec.cv()
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if CHROMA_444:
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(".jpg", pixels, params)
    if not ok:
        raise ValueError("OpenCV could not encode a collection tile")
    return buf.tobytes()


def run_batch(batch: TileBatch) -> int:
    """Compute and store every tile of a batch; return how many were written."""
    storage = registry().get("storage", batch.storage)
    for job in batch.jobs:
        storage.write(job.out_path, encode_jpeg(compose(job), batch.quality))
    return len(batch.jobs)
