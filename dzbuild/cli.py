"""The ``dzbuild`` command line: a thin shell over the library.

Exit codes: 0 success, 1 unexpected failure, 2 configuration error (or bad usage), 3 bad
source tile or folder, 4 a published version would change, 5 plugin error, 6 output folder
locked by another build, 7 build failed (disk full, permissions), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .commands import COMMANDS


def make_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or just the subcommand ``only`` (a run needs one parser, not seven)."""
    parser = argparse.ArgumentParser(prog="dzbuild", description="Incremental Deep Zoom pyramids for static sites.")
    parser.add_argument("--version", action="version", version=f"dzbuild {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else COMMANDS:
        importlib.import_module(f"dzbuild.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):  # answer before building every subcommand's parser
        print(f"dzbuild {__version__}")
        return 0
    parser = make_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    from .errors import DzbuildError

    try:
        return args.run(args)
    except DzbuildError as exc:
        print(f"dzbuild: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dzbuild: interrupted; published versions are intact", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dzbuild: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 7
