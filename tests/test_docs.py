"""The documentation as a new reader meets it: every page reachable, install lines that work today."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_every_docs_page_is_in_the_navigation():
    """mkdocs only mentions a page left out of ``nav`` (no warning, so ``--strict`` passes): this test fails."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = {page for entry in config["nav"] for page in entry.values()}
    assert {page.name for page in (REPO / "docs").glob("*.md")} == listed
    assert "commands.md" in listed and "configuration.md" in listed


def test_no_page_installs_what_does_not_exist():
    """dzbuild is not on a package index, and its wheel carries OpenSeadragon: no npm package to add."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        by_name = re.search(r"pip install [\"']?dzbuild(\[|[\"'\s]|$)", text, re.MULTILINE)
        assert not by_name, page.name  # a clone's . or a built wheel, never the name alone
        assert "npm install openseadragon" not in text, page.name


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:25])
    assert len(readme.splitlines()) < 200
    assert "npm ci --omit=dev" in first_screen and "python -m pytest" in first_screen
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", readme))
    assert {"getting-started.md", "commands.md", "configuration.md", "deploy.md"} <= linked
    assert all((REPO / "docs" / name).is_file() for name in linked)


def test_no_issue_numbers_in_docs_or_bench():
    files = PAGES + sorted((REPO / "bench").glob("*.py")) + [REPO / "mkdocs.yml"]
    for path in files:
        assert not re.search(r"\bissues? #?\d", path.read_text(encoding="utf-8"), re.IGNORECASE), path.name
