"""The ``dzbuild`` command line: a thin shell over the library.

Exit codes: 0 success, 1 unexpected failure, 2 configuration error (or bad usage), 3 bad
source tile or folder, 4 a published version would change, 5 plugin error, 6 output folder
locked by another build, 7 build failed (disk full, permissions), 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from . import __version__
from .commands import COMMANDS
from .errors import DzbuildError, _one_line


class _OneCommand:
    """Stands in for argparse's subparsers when the command is known: one parser, not two."""

    def __init__(self) -> None:
        self.parser: argparse.ArgumentParser | None = None

    def add_parser(self, name: str, help: str | None = None, **kwargs) -> argparse.ArgumentParser:
        kwargs.setdefault("description", help)
        self.parser = argparse.ArgumentParser(prog=f"dzbuild {name}", **kwargs)
        return self.parser


def make_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only the parser of the subcommand ``only`` (what a run needs)."""
    if only is not None:
        shim = _OneCommand()
        importlib.import_module(f"dzbuild.commands.{only}").add_parser(shim)
        return shim.parser
    parser = argparse.ArgumentParser(prog="dzbuild", description="Incremental Deep Zoom pyramids for static sites.")
    parser.add_argument("--version", action="version", version=f"dzbuild {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"dzbuild.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    for stream in (sys.stdout, sys.stderr):  # a name the terminal cannot show is escaped, not a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if argv in (["--version"], ["-V"]):  # answer before building every subcommand's parser
        print(f"dzbuild {__version__}")
        return 0
    if argv and argv[0] in COMMANDS:
        parser = make_parser(argv[0])
        args = parser.parse_args(argv[1:])
    else:
        parser = make_parser()
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2

    try:
        return args.run(args)
    except DzbuildError as exc:
        print(f"dzbuild: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dzbuild: interrupted; published versions are intact", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"dzbuild: error: {_os_error(exc, args)}", file=sys.stderr)
        return 7


def _os_error(exc: OSError, args) -> str:
    """One line for an error of the system: the file it names, else the folder being worked on."""
    folders = (getattr(args, key, None) for key in ("dest", "image_dir", "site", "path"))
    where = exc.filename or next((folder for folder in folders if folder), None)
    hint = {errno.EMFILE: " (raise the limit with `ulimit -n`, or use fewer --jobs)"}.get(exc.errno, "")
    return _one_line(f"{where}: {exc.strerror or exc}{hint}" if where else f"{exc.strerror or exc}{hint}")


def console() -> None:
    """The ``dzbuild`` executable: ``main``, then a normal exit, so every ``atexit`` handler runs
    (a plugin's, coverage's). Output cut short by a closed pipe (``dzbuild ... | head``) is not an error
    to report: nothing more can be said there."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's own flush cannot fail
        code = code or 1
    sys.exit(code)
