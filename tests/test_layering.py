"""The layering rule, read from the source with ``ast`` (docs/architecture.md): the engine imports nothing
from tasks, adapters or the leaderboard, and no module imports itself back through others.

Every import counts: at module level, inside functions, under ``if TYPE_CHECKING:``, relative or absolute,
and, in the engine, string import targets (``"spotfake.adapters.x:Y"`` registry entries, names given to
``importlib.import_module``). For cycles, imports under ``TYPE_CHECKING`` are left out: they never run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT

PACKAGES = ("harness", "tasks", "adapters", "leaderboard")
ENGINE = "harness"
ABOVE_THE_ENGINE = ("tasks", "adapters", "leaderboard")
LAZY_TARGET = re.compile(r"^(?:spotfake\.)?(?:harness|tasks|adapters|leaderboard)(?:\.\w+)*:[\w.]+$")
"""A registry's lazy ``module:attr`` target (legacy ``adapters.x:Y`` spelling included)."""
IMPORT_CALLS = ("import_module", "__import__")


@dataclass(frozen=True)
class Import:
    """One import of ``module`` (dotted, absolute) at ``line``; ``type_only`` under TYPE_CHECKING."""

    module: str
    line: int
    type_only: bool = False
    string: bool = False


def find_modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """``spotfake.<package>...`` -> file, for every ``.py`` under ``root/<package>``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(["spotfake", *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(name: str) -> str:
    """Legacy top-level spellings (``adapters.x``) as the ``spotfake.`` module they resolve to."""
    return name if name.startswith("spotfake.") or name.split(".")[0] not in PACKAGES else f"spotfake.{name}"


def imports_of(module: str, path: Path) -> list[Import]:
    """Every import written in ``path`` (the module ``module``), resolved to absolute dotted names."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(_absolute(alias.name), node.lineno, type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = _absolute(node.module or "")
            found.append(Import(source, node.lineno, type_only))
            found.extend(Import(f"{source}.{alias.name}", node.lineno, type_only) for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and LAZY_TARGET.match(node.value):
            found.append(Import(_absolute(node.value.split(":")[0]), node.lineno, type_only, string=True))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in IMPORT_CALLS and isinstance(node.args[0].value, str):
                found.append(Import(_absolute(node.args[0].value), node.lineno, type_only, string=True))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def engine_violations(modules: dict[str, Path]) -> list[str]:
    """``file:line imports X`` for each engine import of a task, adapter or leaderboard module."""
    refused = tuple(f"spotfake.{name}" for name in ABOVE_THE_ENGINE)
    found: dict[tuple[str, int], Import] = {}
    for module, path in modules.items():
        if module.split(".")[1] != ENGINE:
            continue
        for imp in imports_of(module, path):
            if imp.module in refused or imp.module.startswith(tuple(f"{r}." for r in refused)):
                where = (str(path.relative_to(path.parents[len(module.split(".")) - 2])), imp.line)
                if where not in found or len(imp.module) < len(found[where].module):
                    found[where] = imp  # one line, one finding: the module it imports from
    return [
        f"{file}:{line} {'names the import target' if imp.string else 'imports'} {imp.module}"
        for (file, line), imp in sorted(found.items())
    ]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules it imports (run-time imports only: TYPE_CHECKING blocks left out)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = set()
        for imp in imports_of(module, path):
            if imp.type_only:
                continue
            target = imp.module
            if target not in modules and target.rpartition(".")[0] in modules:
                target = target.rpartition(".")[0]  # ``from package.module import name``
            if target in modules and target != module:
                edges.add(target)
        graph[module] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return sorted(cycles)


# ---------------------------------------------------------------- the repository


def test_the_engine_imports_no_task_adapter_or_leaderboard_module() -> None:
    assert engine_violations(find_modules(REPO_ROOT)) == []


def test_no_module_imports_itself_back_through_others() -> None:
    assert import_cycles(import_graph(find_modules(REPO_ROOT))) == []


def test_the_model_layer_does_not_import_the_judge() -> None:
    modules = find_modules(REPO_ROOT, ("adapters",))
    judge = [
        f"{path.name}:{imp.line}"
        for module, path in modules.items()
        for imp in imports_of(module, path)
        if imp.module.startswith("spotfake.harness.judge")
    ]
    assert judge == []


# ---------------------------------------------------------------- the checks themselves, on a toy tree


def _write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return find_modules(root)


def test_a_cycle_through_a_lazy_or_relative_import_is_found(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "harness/__init__.py": "",
            "harness/a.py": "from spotfake.harness.b import thing\n",
            "harness/b.py": "def thing():\n    from spotfake.harness import a\n    return a\n",
            "harness/sub/__init__.py": "",
            "harness/sub/c.py": "from . import d\n",
            "harness/sub/d.py": "from .c import name\n",
            "harness/e.py": "import spotfake.harness.a\n",
        },
    )
    assert import_cycles(import_graph(modules)) == [
        ["spotfake.harness.a", "spotfake.harness.b"],
        ["spotfake.harness.sub.c", "spotfake.harness.sub.d"],
    ]


def test_a_type_checking_import_makes_no_cycle(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "harness/a.py": "from spotfake.harness.b import thing\n",
            "harness/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from spotfake.harness.a import x\n",
        },
    )
    assert import_cycles(import_graph(modules)) == []


@pytest.mark.parametrize(
    ("source", "finding"),
    [
        ("from spotfake.adapters.openai_api import Model\n", "1 imports spotfake.adapters.openai_api"),
        ("import spotfake.tasks.registry\n", "1 imports spotfake.tasks.registry"),
        ("def f():\n    from spotfake.leaderboard import scan\n", "2 imports spotfake.leaderboard"),
        ("import typing\nif typing.TYPE_CHECKING:\n    from spotfake.adapters import x\n", "3 imports spotfake.adapters"),
        ('E = "spotfake.adapters.baselines:AlwaysFake"\n', "1 names the import target spotfake.adapters.baselines"),
        ('E = "adapters.baselines:AlwaysFake"\n', "1 names the import target spotfake.adapters.baselines"),
        ('import importlib\nm = importlib.import_module("spotfake.tasks.readers")\n', "2 names the import target spotfake.tasks.readers"),
        ("from adapters.baselines import AlwaysFake\n", "1 imports spotfake.adapters.baselines"),
    ],
)  # fmt: skip
def test_an_engine_import_of_an_upper_layer_is_refused(tmp_path: Path, source: str, finding: str) -> None:
    modules = _write(tmp_path, {"harness/bad.py": source, "adapters/baselines.py": ""})
    assert engine_violations(modules) == [f"harness/bad.py:{finding}"]


def test_upper_layers_may_import_the_engine_and_entry_point_names_are_not_imports(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "harness/registry.py": 'GROUP = "spotfake.tasks"\nfrom spotfake.harness.errors import E\n',
            "harness/errors.py": "class E(Exception): ...\n",
            "adapters/x.py": "from spotfake.harness.registry import GROUP\n",
            "tasks/y.py": "from spotfake.adapters.x import GROUP\n",
        },
    )
    assert engine_violations(modules) == []
