"""Optional libraries: a command whose extra is missing ends with one line naming the pip install to run,
and every third-party import of the package is declared in the core dependencies or in an extra."""

from __future__ import annotations

import ast
import importlib.abc
import re
import sys
from collections.abc import Sequence
from importlib.metadata import packages_distributions
from pathlib import Path
from types import ModuleType

import pytest
import tomllib
from conftest import REPO_ROOT, TOY_TASK

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require

PACKAGES = ("harness", "tasks", "adapters", "leaderboard")
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``import name`` fail as if the library were not installed (for this test only)."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def cli_error(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> str:
    """Run the real CLI; it must exit 2 with exactly one line on stderr, which is returned."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


# ------------------------------------------------------------------ require()


def test_require_returns_the_module() -> None:
    import json

    assert require("json", "dev", "x") is json


def test_a_missing_module_names_the_extra_and_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "streamlit")
    with pytest.raises(SpotfakeError) as err:
        require("streamlit", "leaderboard", "spotfake leaderboard")
    assert str(err.value) == (
        "spotfake leaderboard needs the 'leaderboard' extra (streamlit is not installed): "
        "pip install 'spotfake[leaderboard]'"
    )


def test_a_missing_parent_package_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "skimage", "skimage.data")
    with pytest.raises(SpotfakeError, match=r"needs the 'train' extra \(skimage.data is not installed\)"):
        require("skimage.data", "train", "spotfake demo build")


class _Broken(importlib.abc.MetaPathFinder):
    """Imports of ``spotfake_broken_lib`` fail the way a half-installed library does."""

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None) -> None:
        if fullname == "spotfake_broken_lib":
            raise ImportError("libfoo.so.1: cannot open shared object file\nsecond line")
        if fullname == "spotfake_needs_gone":
            raise ModuleNotFoundError("No module named 'gone_dependency'", name="gone_dependency")
        return None


def test_a_broken_install_is_one_line_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [_Broken(), *sys.meta_path])
    with pytest.raises(SpotfakeError) as err:
        require("spotfake_broken_lib", "report", "spotfake report --figures")
    assert str(err.value) == (
        "spotfake report --figures: spotfake_broken_lib cannot be imported (libfoo.so.1: cannot open shared "
        "object file); reinstall it: pip install 'spotfake[report]'"
    )
    with pytest.raises(SpotfakeError, match=r"\(gone_dependency is missing\); reinstall it: pip install"):
        require("spotfake_needs_gone", "hf", "task 'x'")


# ------------------------------------------------------------------ through the CLI


def test_leaderboard_without_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hide(monkeypatch, "streamlit")
    err = cli_error(capsys, ["leaderboard", "--no-browser"])
    assert err.endswith("spotfake leaderboard needs the 'leaderboard' extra (streamlit is not installed): "
                        "pip install 'spotfake[leaderboard]'")  # fmt: skip


def test_submit_without_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "pandas")
    err = cli_error(capsys, ["submit", str(tmp_path)])
    assert (
        "spotfake submit needs the 'leaderboard' extra" in err
        and "pip install 'spotfake[leaderboard]'" in err
    )


def test_report_figures_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "matplotlib")
    err = cli_error(capsys, ["report", str(tmp_path), "--figures", str(tmp_path / "figures")])
    assert (
        "spotfake report --figures needs the 'report' extra" in err
        and "pip install 'spotfake[report]'" in err
    )
    assert not (tmp_path / "figures").exists()


def test_arena_without_sqlalchemy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "sqlalchemy")
    err = cli_error(capsys, ["arena", "ratings", "--task", "demo", "--db", str(tmp_path / "votes.sqlite3")])
    assert "spotfake arena ratings needs the 'leaderboard' extra (sqlalchemy is not installed)" in err


def test_a_postgres_arena_without_psycopg(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hide(monkeypatch, "psycopg")
    url = "postgresql+psycopg://board@127.0.0.1:1/arena"
    err = cli_error(capsys, ["arena", "export", "--db", url])
    assert "a PostgreSQL arena database" in err and "pip install 'spotfake[arena-postgres]'" in err


def test_the_hf_dataset_reader_without_datasets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "datasets")
    argv = ["run", "--model", "always-fake", "--task", "fakeclue-hf", "--data-root", str(tmp_path)]
    err = cli_error(capsys, [*argv, "--output-dir", str(tmp_path / "runs")])
    assert "task 'fakeclue-hf' (a Hugging Face dataset) needs the 'hf' extra" in err
    assert "pip install 'spotfake[hf]'" in err


def test_a_hub_table_reader_without_datasets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "datasets")
    argv = ["run", "--model", "always-fake", "--task", "commfor", "--data-root", str(tmp_path)]
    err = cli_error(capsys, [*argv, "--output-dir", str(tmp_path / "runs")])
    assert "task 'commfor' (a Hugging Face dataset) needs the 'hf' extra" in err
    assert "pip install 'spotfake[hf]'" in err


def test_training_without_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "accelerate")
    err = cli_error(capsys, ["train", "fakevlm", "--from-scratch", "demo", "--output", str(tmp_path / "m")])
    assert "spotfake train fakevlm needs the 'train' extra (accelerate is not installed)" in err
    monkeypatch.delitem(sys.modules, "accelerate")
    hide(monkeypatch, "peft")
    err = cli_error(
        capsys, ["train", "fakevlm", "--from-scratch", "demo", "--lora", "--output", str(tmp_path / "m")]
    )
    assert "spotfake train fakevlm --lora needs the 'train' extra (peft is not installed)" in err
    assert not (tmp_path / "m").exists()


def test_demo_build_without_scikit_image(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "skimage")
    err = cli_error(
        capsys, ["demo", "build", "--seed", "0", "--output", str(tmp_path / "demo"), "--profile", "small"]
    )
    assert "spotfake demo build needs the 'train' extra" in err and "pip install 'spotfake[train]'" in err


@pytest.mark.parametrize("model", ["hf", "fakevlm"])
def test_lmm_adapters_without_accelerate(
    model: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hide(monkeypatch, "accelerate")
    argv = ["run", "--model", model, "--model-args", f"path={tmp_path / 'model'}", "--task", str(TOY_TASK)]
    err = cli_error(capsys, [*argv, "--data-root", str(tmp_path), "--output-dir", str(tmp_path / "runs")])
    assert err.endswith(
        f"spotfake run --model {model} needs the 'lmm' extra (accelerate is not installed): "
        "pip install 'spotfake[lmm]'"
    )


# ------------------------------------------------------------------ declarations


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _extras() -> dict[str, set[str]]:
    """Distribution names per extra, ``all`` expanded, plus ``core``."""
    table = PYPROJECT["project"]["optional-dependencies"]
    extras = {
        name: {_requirement_name(r) for r in reqs if not r.startswith("spotfake")}
        for name, reqs in table.items()
    }
    extras["core"] = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    return extras


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the package files that import it (absolute imports not of the stdlib or spotfake)."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("spotfake", "__future__"):
                        found.setdefault(top, set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def _owners(module: str, distributions: dict[str, list[str]], declared: set[str]) -> set[str]:
    """The declared distributions that provide ``module``: from the installed metadata, or, for a library
    not installed here yet, a declared name that is the module's or starts with it (open_clip:
    open-clip-torch)."""
    installed = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
    if installed:
        return installed & declared
    name = module.lower().replace("_", "-")
    return {d for d in declared if d == name or d.startswith(name + "-")}


def test_every_third_party_import_is_declared() -> None:
    distributions = packages_distributions()
    declared = set().union(*_extras().values())
    undeclared = {
        module: sorted(files)
        for module, files in _third_party_imports().items()
        if not _owners(module, distributions, declared)
    }
    assert not undeclared, f"imported but declared in no dependency list of pyproject.toml: {undeclared}"


def test_all_is_every_extra_and_the_core_holds_no_extra() -> None:
    table = PYPROJECT["project"]["optional-dependencies"]
    named = {name for name in table if name not in ("all", "dev")}
    assert table["all"] == [f"spotfake[{','.join(sorted(named, key=list(table).index))}]"]
    extras = _extras()
    optional = set().union(*(extras[name] for name in named))
    assert not optional & extras["core"], "a library is both core and optional"


def _require_calls() -> list[tuple[str, str, str]]:
    """``(module, extra, file)`` of every literal ``require(module, extra, ...)`` call in the packages."""
    calls = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "require"
                ):
                    literals = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
                    if len(literals) == 2:
                        calls.append((str(literals[0]), str(literals[1]), str(path.relative_to(REPO_ROOT))))
    return calls


def test_every_require_names_an_extra_that_installs_the_module() -> None:
    calls = _require_calls()
    assert len(calls) >= 8, calls
    distributions = packages_distributions()
    extras = _extras()
    for module, extra, where in calls:
        assert extra in extras and extra not in ("core", "all", "dev"), f"{where}: unknown extra {extra!r}"
        owners = {d.lower().replace("_", "-") for d in distributions.get(module.split(".")[0], [])}
        assert owners & extras[extra], f"{where}: extra {extra!r} does not install {module}"
