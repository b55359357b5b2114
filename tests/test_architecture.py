"""The layering of `pipeline/` as a test: each subpackage imports only the packages below it.

The rules are the ones each package's docstring states and ARCHITECTURE.md draws. A new import
that crosses a layer upwards fails here, naming the file, the line and the rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

# package -> the pipeline packages it may import (besides itself); lowest layer first
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "config": {"core"},
    "render": {"core"},
    "features": {"core", "config", "render"},
    "warehouse": {"core", "config", "render"},
    "evaluation": {"core", "render", "warehouse"},
    "model": {"core", "render", "features", "warehouse"},
    "scoring": {"core", "model"},
}
# the top three layers each may import everything below them
for _upper in ("stages", "tools", "cli"):
    ALLOWED[_upper] = set(ALLOWED)
# top-level modules: the package marker and `python -m pipeline`
TOP_LEVEL = {"__init__.py": set(), "__main__.py": {"cli"}}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, second part of the module name) of every `pipeline.*` import in one file, lazy
    imports inside functions and TYPE_CHECKING blocks included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pipeline":
                names = [f"pipeline.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}:{node.lineno}: relative import; spell the package")
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pipeline" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def violations(root: Path) -> list[str]:
    """Every import under `root` that a rule forbids, as `file:line: a imports b`."""
    broken = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "sql":
            continue
        if len(rel.parts) == 1:
            owner, allowed = rel.parts[0], TOP_LEVEL.get(rel.parts[0])
            if allowed is None:
                broken.append(f"{rel}: a module at the top of pipeline/; give it a package")
                continue
        else:
            owner = rel.parts[0]
            if owner not in ALLOWED:
                broken.append(f"{rel}: package {owner} has no import rule in {__file__}")
                continue
            allowed = ALLOWED[owner]
        for line, target in imported_packages(path):
            if target != owner and target not in allowed:
                broken.append(f"pipeline/{rel}:{line}: {owner} may not import {target}")
    return broken


def test_every_package_imports_only_the_layers_below_it() -> None:
    assert violations(PACKAGE) == []


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for name in ALLOWED:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "May import" in doc, f"pipeline/{name}/__init__.py: say what it may import"


def test_the_rules_form_layers() -> None:
    """No two packages may import each other, however indirectly: the rules are a DAG."""
    seen: dict[str, int] = {}

    def depth(name: str, path: tuple[str, ...] = ()) -> int:
        assert name not in path, f"import rules form a cycle: {' -> '.join((*path, name))}"
        if name not in seen:
            seen[name] = 1 + max((depth(d, (*path, name)) for d in ALLOWED[name]), default=0)
        return seen[name]

    for name in ALLOWED:
        depth(name)


@pytest.mark.parametrize(
    ("owner", "statement", "expected"),
    [
        ("core", "from pipeline.config import Config\n", "core may not import config"),
        ("render", "import pipeline.warehouse.duckdb\n", "render may not import warehouse"),
        ("model", "def f():\n    from pipeline.stages import runner\n", "model may not import"),
        ("stages", "from pipeline.cli import app\n", "stages may not import cli"),
    ],
)
def test_a_broken_rule_fails(tmp_path: Path, owner: str, statement: str, expected: str) -> None:
    """The check itself: an upward import, even a lazy one, is found and named."""
    (tmp_path / owner).mkdir()
    (tmp_path / owner / "bad.py").write_text(statement)
    found = violations(tmp_path)
    assert len(found) == 1 and expected in found[0], found
