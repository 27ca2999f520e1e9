"""The command reference page (``docs/commands.md``), written from the argparse parser itself.

Not a subcommand: the documentation's list of every option of every command, derived from the
parser so it cannot drift from ``dzbuild --help``. ``tests/test_cli_reference.py`` fails when the
committed page differs from what this writes; regenerate it with
``python -m dzbuild.commands.reference > docs/commands.md``.
"""

from __future__ import annotations

import argparse

from ..cli import make_parser
from . import COMMANDS

HEADER = """\
# Command reference

<!-- Generated from dzbuild's argument parser: python -m dzbuild.commands.reference > docs/commands.md -->

Every command and option of `dzbuild`, as `dzbuild COMMAND --help` prints them. Exit codes are
listed in [Guarantees and exit codes](guarantees.md#exit-codes).
"""

USAGE_WIDTH = 100  # a fixed width, so the page does not depend on the terminal it was made in


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser as ``dzbuild NAME --help`` uses it, in ``dzbuild --help`` order."""
    return {name: make_parser(name) for name in COMMANDS}


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every argument a user can give (``--help`` left out: every command has it)."""
    skipped = (argparse._HelpAction, argparse._SubParsersAction)  # subcommands have sections of their own
    return [a for a in parser._actions if not isinstance(a, skipped)]


def option_names(action: argparse.Action) -> list[str]:
    """``['--jobs', '-j']`` for an option, ``['SITE']`` for a positional argument."""
    return list(action.option_strings) or [_positional_name(action)]


def reference_page() -> str:
    """The whole Markdown page."""
    sections = [HEADER, _command_section("", make_parser())]
    sections += [_command_section(name, parser) for name, parser in subcommand_parsers().items()]
    return "\n".join(sections)


def _command_section(name: str, parser: argparse.ArgumentParser) -> str:
    heading = f"## dzbuild {name}".rstrip()
    lines = [heading, "", (parser.description or "").strip(), "", "```", _usage(parser), "```", ""]
    lines += ["| argument | meaning |", "| --- | --- |"]
    lines += [f"| {_names_cell(action)} | {_escape(_meaning(action))} |" for action in documented_actions(parser)]
    return "\n".join(lines) + "\n"


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _names_cell(action: argparse.Action) -> str:
    value = _value_name(action)
    names = [f"`{name} {value}`" if value else f"`{name}`" for name in action.option_strings]
    return ", ".join(names) or f"`{_positional_name(action)}`"


def _value_name(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.metavar or action.dest.upper()


def _positional_name(action: argparse.Action) -> str:
    name = action.metavar or action.dest.upper()
    return f"[{name}]" if action.nargs == "?" else name


def _meaning(action: argparse.Action) -> str:
    text = (action.help or "").strip()
    if action.choices and not action.option_strings:
        text += f"; one of {', '.join(f'`{c}`' for c in action.choices)}"
    return text


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


if __name__ == "__main__":
    print(reference_page(), end="")
