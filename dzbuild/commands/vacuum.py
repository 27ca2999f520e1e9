"""``dzbuild vacuum IMAGE_DIR``: remove intermediate versions to save space, keeping the chosen ones whole."""

from __future__ import annotations

import json
from pathlib import Path

from ..pyramid.manifests import rewrite_manifests
from ..pyramid.vacuum import vacuum


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("vacuum", help="remove intermediate versions; the chosen ones and the latest stay")
    parser.add_argument("image_dir", help="folder with pyramid.json and v0/, v1/...")
    parser.add_argument("--dest", help="output folder (default: IMAGE_DIR/dest)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--remove", metavar="VERSIONS", help="versions to remove, e.g. v1..v3 or v1,v4")
    which.add_argument("--keep", metavar="VERSIONS", help="versions to keep (the latest always is), e.g. v0,v5")
    parser.add_argument("--dry-run", action="store_true", help="report what would be freed, change nothing")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.set_defaults(run=run)


def run(args) -> int:
    report = vacuum(args.image_dir, args.dest, remove=args.remove, keep=args.keep, dry_run=args.dry_run)
    if report.removed and not report.dry_run:  # a IIIF manifest must not list a removed version
        rewrite_manifests(Path(report.dest), Path(args.image_dir).resolve().name)
    if args.json:
        print(json.dumps(report.summary(), indent=2))
        return 0
    removed = ", ".join(f"v{n}" for n in report.removed) or "nothing"
    verb = "would remove" if report.dry_run else "removed"
    moved = ""
    if report.moved or report.relinked:
        moved = f"; {report.moved} files moved into kept versions, {report.relinked} links re-pointed"
    print(
        f"{report.dest}: {verb} {removed}; {report.entries_removed} entries, {report.files_freed} files,"
        f" {report.bytes_freed / 1e6:.2f} MB freed; kept {', '.join(f'v{n}' for n in report.kept)}{moved}"
    )
    return 0
