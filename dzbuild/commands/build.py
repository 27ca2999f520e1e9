"""``dzbuild build [SITE]``: build every image, collection and viewer page of a site into its output folder."""

from __future__ import annotations

import json
import sys

from ..errors import ConfigError
from ..site.build import build_site
from .pyramid import EXECUTOR_HELP

PROGRESS_MODES = ("auto", "bar", "lines", "quiet")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build a whole site: pyramids, collections, viewer pages, _headers")
    parser.add_argument("site", nargs="?", default=".", help="the site folder, with dzbuild.toml (default: .)")
    parser.add_argument("--rebuild", action="store_true", help="forget the cache and the output it wrote; build all")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: every core)")
    parser.add_argument("--executor", metavar="NAME[://ADDRESS]", help=EXECUTOR_HELP + "; default: dzbuild.toml's")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    parser.add_argument(
        "--progress", choices=PROGRESS_MODES, default="auto", help="auto: a bar on a terminal, plain lines in CI"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    mode = "quiet" if args.json and args.progress == "auto" else None if args.progress == "auto" else args.progress
    report = build_site(args.site, rebuild=args.rebuild, jobs=args.jobs, progress=mode, executor=args.executor)
    for message in report.warnings:
        print(f"dzbuild: warning: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary(), indent=2))
        return 0
    work = (
        f"{_count(report.versions_built, 'version')} built ({report.tiles_computed} tiles computed,"
        f" {report.tiles_linked} linked)"
        if report.versions_built
        else "up to date"
    )
    print(
        f"{report.site}: {_count(report.images, 'image')}, {_count(report.collections, 'collection')}: {work};"
        f" {report.output} holds {_count(report.output_files, 'file')} ({report.seconds:.2f} s)"
    )
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
