"""Numbers the documentation states about the test suite, read from the page that states them.

A test that counts its cases compares the count with the sentence in ``docs/``, so the number is
written once, where readers see it.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def stated_number(page: str, pattern: str) -> int:
    """The number ``pattern``'s one group matches in ``docs/PAGE`` (thousands separators allowed)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    match = re.search(pattern, text)
    assert match, f"docs/{page} no longer says {pattern!r}"
    return int(match.group(1).replace(",", ""))
