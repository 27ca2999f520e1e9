"""``dzbuild ingest IMAGE_FILE IMAGE_DIR``: cut one large picture into a new version of an image folder."""

from __future__ import annotations

import json
import sys
import warnings

from ..pyramid.ingest import ingest


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="cut a large picture into base tiles: v0 for a new folder, else a version of the changed tiles",
    )
    parser.add_argument("image_file", help="the picture: binary PPM/PGM is read in strips, anything else whole")
    parser.add_argument("image_dir", help="the image folder (created with pyramid.json when new)")
    parser.add_argument("--tile-size", type=int, help="tile size of a new folder (default 256)")
    parser.add_argument("--quality", type=int, help="JPEG/WebP quality of a new folder (default 85)")
    parser.add_argument("--format", help="tile format of a new folder: jpg (default), png or webp")
    parser.add_argument(
        "--tolerance",
        type=int,
        default=0,
        help="largest per-channel difference still counted as an unchanged pixel (default 0: exact)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.set_defaults(run=run)


def run(args) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        report = ingest(args.image_file, args.image_dir, args.tile_size, args.quality, args.format, args.tolerance)
    for warning in caught:
        print(f"dzbuild: warning: {warning.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary(), indent=2))
    elif report.version is None:
        print(f"{report.image_dir}: no tile changed ({report.unchanged} compared); nothing written")
    else:
        total = report.written + report.unchanged
        print(
            f"{report.image_dir}: wrote v{report.version}: {report.written} of {total} tiles"
            f" in {report.seconds:.2f} s; publish it with `dzbuild pyramid {report.image_dir}`"
        )
    return 0
