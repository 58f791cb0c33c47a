"""The house rules, checked on the source: SQL only in store, the API and the pages apart,
the backends told apart only in store, functions short enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_tracker"


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module) if part)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("folder", ["services", "server", "cli", "core", "reports", "maps"])
def test_only_the_store_knows_sqlalchemy(folder):
    offenders = [str(p.relative_to(PACKAGE)) for p in modules(folder)
                 if any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in imported(p))]
    assert offenders == []


def test_the_api_and_the_pages_never_import_each_other():
    api = [p for p in modules("server/api") if any(m.startswith("geo_tracker.server.pages") for m in imported(p))]
    pages = [p for p in modules("server/pages") if any(m.startswith("geo_tracker.server.api") for m in imported(p))]
    assert api == [] and pages == []


def test_backends_are_told_apart_only_in_the_store():
    outside = [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts]
    offenders = [str(p.relative_to(PACKAGE)) for p in outside if "backend ==" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_no_function_is_longer_than_80_lines_outside_migrations():
    long = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert long == []


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{path.relative_to(PACKAGE)}: {node.module}.{alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []
