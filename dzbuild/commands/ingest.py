"""``dzbuild ingest IMAGE_FILE IMAGE_DIR``: cut one large picture into a new version of an image folder."""

from __future__ import annotations

import json
import os
import shlex
import sys
import warnings
from pathlib import Path

from ..errors import DzbuildError
from ..pyramid.ingest import ingest
from ..site.config import find_config, load_config


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="cut a large picture into base tiles: v0 for a new folder, else a version of the changed tiles",
    )
    parser.add_argument("image_file", help="the picture: binary PPM/PGM is read in strips, anything else whole")
    parser.add_argument("image_dir", help="the image folder (created with pyramid.json when new)")
    parser.add_argument("--tile-size", type=int, help="tile size of a new folder (default 256)")
    parser.add_argument("--quality", type=int, help="JPEG/WebP quality of a new folder (default 85)")
    parser.add_argument("--format", help="tile format of a new folder: jpg (default; or jpeg), png or webp")
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
            f" in {report.seconds:.2f} s; publish it with `{next_command(report.image_dir)}`"
        )
    return 0


def next_command(image_dir: str) -> str:
    """What publishes the new version: the site's build for an image folder of a site, else ``dzbuild pyramid``.

    The nearest folder above with a site configuration decides; the image is the site's when it
    lies in the site's source and outside its output and cache.
    """
    folder = Path(image_dir).resolve()
    for root in folder.parents:
        try:
            if find_config(root)[1] is None:
                continue
            config = load_config(root)
        except DzbuildError:  # a site whose configuration is broken: its build says what is wrong
            return _command("build", root)
        inside = folder.is_relative_to(config.source)
        if inside and not any(folder.is_relative_to(p) for p in (config.output, config.cache)):
            return _command("build", root)
        break
    return _command("pyramid", Path(image_dir))


def _command(name: str, folder: Path) -> str:
    """``dzbuild NAME FOLDER`` as one would type it here: relative below the current folder, quoted."""
    here = Path.cwd()
    absolute = folder.resolve()
    shown = os.path.relpath(absolute, here) if absolute.is_relative_to(here) else str(folder)
    return f"dzbuild {name}" if shown == "." and name == "build" else f"dzbuild {name} {shlex.quote(shown)}"
