"""The package's shape: no import cycles (not even hidden inside functions), and a report of the largest modules.

Size is a hint, not a rule: a module far over ``LINES_HINT`` may hold a second concept, so the
report names it; where the concepts part decides whether it splits.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import dzbuild

PACKAGE = Path(dzbuild.__file__).parent
LINES_HINT = 300


class LargeModules(UserWarning):
    """Modules over ``LINES_HINT`` lines: worth a look for a second concept, never a failure."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every dzbuild module ``name`` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:  # ``from . import codec`` imports a module, not a name
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return {module for module in found if module in known and module != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def test_no_import_cycles_inside_dzbuild():
    known = modules()
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    # A package's __init__ re-exporting its modules is not a cycle with them.
    for name in graph:
        graph[name] = {m for m in graph[name] if not (known[m].name == "__init__.py" and name.startswith(m + "."))}
    assert cycles(graph) == []


def test_cycle_finder_finds_a_hidden_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def large_modules(package: Path, hint: int = LINES_HINT) -> dict[str, int]:
    """Every module of ``package`` longer than ``hint`` lines, with its length, longest first."""
    lengths = {str(path.relative_to(package)): len(path.read_text().splitlines()) for path in package.rglob("*.py")}
    return dict(sorted(((name, n) for name, n in lengths.items() if n > hint), key=lambda item: -item[1]))


def test_large_modules_are_reported_not_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "long.py").write_text("x = 1\n" * (LINES_HINT + 1))
    (tmp_path / "longer.py").write_text("x = 1\n" * (LINES_HINT + 40))
    (tmp_path / "at_the_hint.py").write_text("x = 1\n" * LINES_HINT)
    assert large_modules(tmp_path) == {"longer.py": LINES_HINT + 40, "sub/long.py": LINES_HINT + 1}
    long = large_modules(PACKAGE)  # dzbuild's own: named in the warnings summary, never a failure
    if long:
        warnings.warn(LargeModules(", ".join(f"{name} ({n} lines)" for name, n in long.items())))
