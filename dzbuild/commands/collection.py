"""``dzbuild collection PATH``: build a folder's images, then the Deep Zoom Collection of them.

``PATH`` holds a ``collection.toml`` or ``collection.json`` (the same file ``dzbuild build`` reads
in a site) and the image folders it names by path or glob. Each image is built into its own
``dest/`` as ``dzbuild pyramid`` would; the collection goes to ``PATH/dest`` unless ``--dest``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..collection import build_collection
from ..collection.layout import MortonLayout
from ..errors import ConfigError
from ..pyramid.build import BuildOptions, build_pyramid, default_dest
from ..run.select import default_executor, open_executor, workers_of
from ..site.collections import load_collection_file, resolve_members
from ..site.scan import scan_site
from .pyramid import EXECUTOR_HELP, STORAGES_HELP

COLLECTION_FILES = ("collection.toml", "collection.json")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("collection", help="build a folder's images and their Deep Zoom Collection")
    parser.add_argument("path", help="folder with collection.toml or collection.json and the image folders")
    parser.add_argument("--dest", help="output folder of the collection (default: PATH/dest)")
    parser.add_argument("--storage", default="hardlink", help=STORAGES_HELP)
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: every core)")
    parser.add_argument("--executor", metavar="NAME[://ADDRESS]", help=EXECUTOR_HELP)
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    folder = Path(args.path)
    dest = Path(args.dest) if args.dest else folder / "dest"
    config, images = _declared(folder, dest)
    options = BuildOptions(storage=args.storage, jobs=args.jobs)
    with open_executor(args.executor, args.jobs) as executor:
        image_reports = [build_pyramid(image.source, options=options, executor=executor) for image in images]
        members = [(image.rel, default_dest(image.source)) for image in images]
        report = build_collection(
            dest, config.name, members, tile_size=config.tile_size, max_level=config.max_level,
            quality=config.quality, storage=args.storage, executor=executor,
        )  # fmt: skip
    if args.json:
        summary = {"images": [r.summary() for r in image_reports], "collection": report.summary()}
        summary.update(executor=args.executor or default_executor(args.jobs), workers=workers_of(executor))
        print(json.dumps(summary, indent=2))
        return 0
    built = sum(len(r.versions) for r in image_reports)
    print(f"{folder}: {len(images)} images ({built} new versions)")
    for version in report.versions:
        print(
            f"{report.name}: published v{version.version} ({version.items} items, {version.added} added,"
            f" {version.removed} removed, {version.changed} changed): {version.computed} tiles computed,"
            f" {version.linked} linked in {version.seconds:.2f} s"
        )
    if not report.versions:
        print(f"{report.name}: up to date ({report.latest_descriptor})")
    return 0


def _declared(folder, dest):
    """The collection file's settings and its member images, in declared order."""
    files = [folder / name for name in COLLECTION_FILES if (folder / name).is_file()]
    if not files:
        raise ConfigError(f"no {' or '.join(COLLECTION_FILES)} in this folder", folder)
    if len(files) > 1:
        raise ConfigError(f"holds both {' and '.join(COLLECTION_FILES)}: keep one", folder)
    config = load_collection_file(files[0], folder)
    try:
        MortonLayout(config.tile_size, config.max_level)
    except ConfigError as exc:  # say which file holds the mistake
        raise ConfigError(exc.message, files[0]) from None
    return config, resolve_members(config, scan_site(folder, skip=(dest,)).images)
