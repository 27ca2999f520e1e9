"""``dzbuild check [PATH]``: verify published output without rebuilding it; exit 1 if anything is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError
from ..maintain.check import Problem, check_report, find_dests


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="verify published output without rebuilding it")
    parser.add_argument(
        "path", nargs="?", default=".",
        help="an image folder (checks its dest/), a site folder (checks its cache), an output folder, or a tree of them"
        " (default: .)",
    )  # fmt: skip
    parser.add_argument("--deep", action="store_true", help="also recompute every computed tile and compare bytes")
    parser.add_argument("--root", help="links must resolve inside this folder (default: the folder holding dest/)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")
    parser.set_defaults(run=run)


def run(args) -> int:
    path = Path(args.path)
    if not path.is_dir():
        raise ConfigError("is not a folder", path)
    reports = [check_report(dest, args.deep, args.root) for dest in find_dests(path)]
    problems = [p for report in reports for p in report.problems]
    if not reports:
        problems = [Problem(str(path), "holds no dzbuild output (no .dzbuild/ records below it)")]
    if args.json:
        checked = [report.summary() for report in reports]
        print(json.dumps({"ok": not problems, "checked": checked, "problems": [vars(p) for p in problems]}, indent=2))
        return 1 if problems else 0
    for problem in problems:
        print(problem)
    for report in reports:
        counts = f"{report.versions} versions, {report.tiles} tiles"
        if args.deep:
            counts += f", {report.recomputed} recomputed"
        print(f"{report.dest}: {len(report.problems) or 'no'} problems ({counts})")
    return 1 if problems else 0
