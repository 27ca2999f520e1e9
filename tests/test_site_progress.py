"""Progress: a tqdm bar on a terminal, plain lines in CI or a pipe, nothing in quiet mode."""

from __future__ import annotations

import io

from dzbuild.site.progress import Progress, wants_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert wants_bar(Terminal()) and not wants_bar(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not wants_bar(Terminal())
    monkeypatch.setenv("CI", "false")
    assert wants_bar(Terminal())


def test_plain_lines_only_for_items_with_work():
    out = io.StringIO()
    progress = Progress(3, "lines", out)
    progress.step("a", "built v0")
    progress.step("b", None)
    progress.step("c", "built v1")
    assert out.getvalue() == "[1/3] a: built v0\n[3/3] c: built v1\n"


def test_the_bar_is_drawn_by_tqdm():
    out = Terminal()
    progress = Progress(2, "bar", out)
    progress.step("a", "built v0")
    progress.step("b", None)
    progress.close()
    text = out.getvalue()
    assert "a: built v0\n" in text and "/2 [" in text and "image/s" in text and "\r" in text


def test_quiet_prints_nothing():
    out = io.StringIO()
    progress = Progress(1, "quiet", out)
    progress.step("a", "built v0")
    progress.close()
    assert out.getvalue() == ""
