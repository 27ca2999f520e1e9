"""``dzbuild init hugo|jekyll|eleventy [DIR]``: add the shortcode and a ``dzbuild.toml`` to a generator's project."""

from __future__ import annotations

import sys

from ..integrations.generators import GENERATORS, HERE, init_project

GENERATOR_NAMES = ("hugo", "jekyll", "eleventy")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "init", help="add dzbuild's shortcode and a dzbuild.toml to a Hugo, Jekyll or Eleventy project"
    )
    parser.add_argument("generator", choices=GENERATOR_NAMES, help="the project's site generator")
    parser.add_argument("folder", nargs="?", default=".", help="the project's folder (default: .)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Exit 0 when every file is in place; 2 when a file of the user's was kept in place of dzbuild's."""
    report = init_project(args.generator, args.folder)
    for rel in report.added:
        print(f"added {rel}")
    for rel in report.unchanged:
        print(f"{rel} is already dzbuild's")
    shipped = GENERATORS[args.generator].files
    for rel in report.kept:
        source = HERE / shipped[rel] if rel in shipped else None
        hint = f"; dzbuild's version is {source}" if source else "; merge the keys init would add by hand"
        print(f"dzbuild: error: {rel}: exists, kept as it is{hint}", file=sys.stderr)
    print("next:")
    for step in report.steps:
        print(f"  {step}")
    return 2 if report.kept else 0
