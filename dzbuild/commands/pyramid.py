"""``dzbuild pyramid IMAGE_DIR``: build every new version of one image folder."""

from __future__ import annotations

import json

from ..errors import ConfigError
from ..pyramid.build import DEFAULT_STORAGE, BuildOptions, build_pyramid
from ..pyramid.formats import DEFAULT_FORMATS

STORAGES_HELP = "hardlink (default; falls back to copy across filesystems), symlink, or copy"
EXECUTOR_HELP = (
    "where work units run: fork (default: worker processes on this machine), inline (this process),"
    " or a plugin's, e.g. dask or dask://HOST:PORT (see `dzbuild plugins`)"
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("pyramid", help="build every new version of one image folder")
    parser.add_argument("image_dir", help="folder with pyramid.json and v0/, v1/...")
    parser.add_argument("--dest", help="output folder (default: IMAGE_DIR/dest)")
    parser.add_argument("--storage", help=STORAGES_HELP)
    parser.add_argument("--resampler", help="dct (default, fastest) or area (exact 2x2 mean)")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: every core)")
    parser.add_argument("--executor", metavar="NAME[://ADDRESS]", help=EXECUTOR_HELP)
    parser.add_argument("--rebuild", action="store_true", help="discard dest and recompute every version")
    parser.add_argument(
        "--format",
        action="append",
        default=[],
        metavar="NAME",
        help="also publish this output format, e.g. iiif or zoomify (repeatable; see `dzbuild plugins`);"
        " dzi is always published and holds the tiles the others link to",
    )
    parser.add_argument("--base-url", help="public URL of the output folder (required by iiif)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    options = BuildOptions(
        storage=args.storage or DEFAULT_STORAGE,
        resampler=args.resampler,
        jobs=args.jobs,
        executor=args.executor,
        rebuild=args.rebuild,
        formats=(*DEFAULT_FORMATS, *args.format),  # build_pyramid puts them in order (resolve_formats)
        base_url=args.base_url,
    )
    report = build_pyramid(args.image_dir, args.dest, options)
    if args.json:
        print(json.dumps(report.summary(), indent=2))
    elif not report.versions:
        print(f"{report.image}: up to date (v0..v{report.published_before - 1})")
    else:
        for version in report.versions:
            print(
                f"{report.image}: published v{version.version}: {version.computed} tiles computed,"
                f" {version.linked} linked in {version.seconds:.2f} s"
            )
    return 0
