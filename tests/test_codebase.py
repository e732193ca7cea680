"""Promises about the code itself: files cut by job, and typed public signatures where results flow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO_ROOT

PACKAGES = ("harness", "tasks", "adapters", "leaderboard")
MAX_LINES = 400
TYPED_MODULES = (
    *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "harness" / "scoring").glob("*.py")),
    "harness/results.py",
    "harness/results_contract.py",
    *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "leaderboard" / "submission").glob("*.py")),
)


def python_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO_ROOT / pkg).rglob("*.py"))


def test_no_python_file_in_the_packages_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in python_files()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _public_signatures(tree: ast.Module) -> list[tuple[str, str]]:
    out = []
    for node in tree.body:
        functions = [node] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            functions += [f for f in node.body if isinstance(f, ast.FunctionDef)]
        for fn in functions:
            if not fn.name.startswith("_"):
                returns = ast.unparse(fn.returns) if fn.returns else ""
                out.append((fn.name, f"{ast.unparse(fn.args)} -> {returns}"))
    return out


@pytest.mark.parametrize("module", TYPED_MODULES)
def test_no_any_in_public_signatures_of_results_scoring_and_submission_code(module: str) -> None:
    tree = ast.parse((REPO_ROOT / module).read_text())
    untyped = [f"{name}({sig})" for name, sig in _public_signatures(tree) if "Any" in sig]
    assert untyped == []


def test_docs_architecture_names_every_module() -> None:
    doc = (REPO_ROOT / "docs" / "architecture.md").read_text()
    missing = [
        str(p.relative_to(REPO_ROOT))
        for p in python_files()
        if p.name != "__init__.py"
        and "evaluate_modules" not in p.parts
        and str(p.relative_to(REPO_ROOT)) not in doc
        and f"`{p.name}`" not in doc.split(f"`{p.parent.relative_to(REPO_ROOT)}/`", 1)[-1][:2000]
    ]
    assert missing == []
