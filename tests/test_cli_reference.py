"""The command reference page (docs/commands.md) is generated from the parser and kept current."""

from __future__ import annotations

from pathlib import Path

from dzbuild.cli import make_parser
from dzbuild.commands import COMMANDS
from dzbuild.commands.reference import documented_actions, option_names, reference_page, subcommand_parsers

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "commands.md"


def section(page: str, command: str) -> str:
    """The text under ``## dzbuild COMMAND``, up to the next command's heading."""
    start = page.index(f"\n## dzbuild {command}\n")
    end = page.find("\n## dzbuild ", start + 1)
    return page[start : end if end >= 0 else len(page)]


def test_the_committed_page_is_what_the_parser_gives():
    """Regenerate with ``python -m dzbuild.commands.reference > docs/commands.md`` when this fails."""
    assert PAGE.read_text(encoding="utf-8") == reference_page()


def test_every_option_of_every_command_is_in_its_section():
    page = PAGE.read_text(encoding="utf-8")
    parsers = subcommand_parsers()
    assert list(parsers) == list(COMMANDS)
    for command, parser in parsers.items():
        text = section(page, command)
        rows = [line for line in text.splitlines() if line.startswith("| `")]
        actions = documented_actions(parser)
        assert len(rows) == len(actions), command
        for action, row in zip(actions, rows, strict=True):
            for name in option_names(action):
                assert f"`{name}" in row.split(" | ")[0], (command, name, row)
            assert (action.help or "").strip().replace("|", "\\|") in row, (command, row)
    assert "`--version`" in page.split("\n## dzbuild build\n")[0]


def test_an_option_missing_from_the_page_is_noticed(monkeypatch):
    """A new option changes the generated page, so the committed one no longer matches."""
    import dzbuild.commands.reference as reference

    def with_extra(only=None):
        parser = make_parser(only)
        if only == "check":
            parser.add_argument("--brand-new", action="store_true", help="an option nobody documented")
        return parser

    monkeypatch.setattr(reference, "make_parser", with_extra)
    page = reference.reference_page()
    assert "`--brand-new`" in section(page, "check") and page != PAGE.read_text(encoding="utf-8")
