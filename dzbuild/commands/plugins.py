"""``dzbuild plugins``: what is installed and which hooks each plugin implements."""

from __future__ import annotations

import json

from ..plugins import KINDS, describe


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("plugins", help="list installed plugins and the hooks they implement")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        kind = "built-in" if row["builtin"] else f"version {row['version']}" if row["version"] else "plugin"
        provides = "; ".join(f"{k}: {', '.join(row[k])}" for k in (*KINDS, "template_dirs") if k in row)
        print(f"{row['name']} ({kind})\n  hooks: {', '.join(row['hooks'])}\n  provides: {provides or '-'}")
    return 0
