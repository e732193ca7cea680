"""A model's kind is declared once: the registry row or the class, never two that disagree."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import TOY_TASK

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model, build_model
from spotfake.harness.model_kind import MODEL_KINDS
from spotfake.harness.registry import MODELS
from spotfake.harness.types import Response


class Undeclared(Model):
    """Answers in words, declares no kind of its own."""

    needs_images = False

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [Response(text="This is a fake image. The edges are smeared.") for _ in items]


class SaysLmm(Undeclared):
    kind = "lmm"


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names registered by a test, removed afterwards (the registry is process-wide)."""
    names: list[str] = []
    yield names
    for name in names:
        MODELS._entries.pop(name, None)


def test_a_row_and_a_class_that_disagree_are_refused_at_registration(registered: list[str]) -> None:
    with pytest.raises(SpotfakeError, match=r"registered as kind 'expert' but its class declares kind 'lmm'"):
        MODELS.register("kind-clash", SaysLmm, kind="expert")
    assert "kind-clash" not in MODELS


def test_a_lazy_row_is_checked_against_its_class_when_imported(registered: list[str]) -> None:
    module = types.ModuleType("kind_probe_module")
    module.SaysLmm = SaysLmm  # type: ignore[attr-defined]
    sys.modules["kind_probe_module"] = module
    registered.append("lazy-clash")
    MODELS.register("lazy-clash", "kind_probe_module:SaysLmm", kind="baseline")
    with pytest.raises(SpotfakeError, match="declare the kind once"):
        build_model("lazy-clash")


def test_an_unknown_kind_and_no_kind_at_all_are_one_line_errors(registered: list[str]) -> None:
    with pytest.raises(SpotfakeError, match="not one of lmm, expert, baseline"):
        MODELS.register("odd-kind", Undeclared, kind="classifier")
    with pytest.raises(SpotfakeError, match="declares no kind"):
        MODELS.register("no-kind", Undeclared)


def test_the_registered_kind_decides_how_a_class_without_one_is_scored(
    registered: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registered.append("quiet-expert")
    MODELS.register("quiet-expert", Undeclared, kind="expert")
    assert build_model("quiet-expert").kind == "expert"
    argv = ["run", "--model", "quiet-expert", "--task", str(TOY_TASK), "--output-dir", str(tmp_path)]
    assert main([*argv, "--quiet", "--bootstrap", "0"]) == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "quiet-expert" / "toy" / "results.json").read_text())
    assert results["model"]["kind"] == "expert"
    assert results["metrics"]["rouge_l"] is None  # an expert's sentence is no explanation ...
    assert "rouge_l" in results["verdict_only_floor"]  # ... its value is kept as the floor instead


def test_every_list_of_kinds_is_the_one_list() -> None:
    from spotfake.harness.results import load_schema
    from spotfake.leaderboard.data import KIND_LABELS, KINDS
    from spotfake.leaderboard.submission import parse

    schema = load_schema()
    model = schema["properties"]["model"]  # type: ignore[index]
    assert tuple(model["properties"]["kind"]["enum"]) == MODEL_KINDS
    assert KINDS == MODEL_KINDS and set(KIND_LABELS) == set(MODEL_KINDS)
    assert parse.MODEL_KINDS is MODEL_KINDS
    for entry in MODELS:
        assert entry.meta.get("kind") in MODEL_KINDS, entry.name
    source = Path(__file__).resolve().parents[1]
    literal = '"lmm", "expert", "baseline"'
    owners = [
        p.relative_to(source).as_posix()
        for folder in ("harness", "adapters", "tasks", "leaderboard")
        for p in (source / folder).rglob("*.py")
        if literal in p.read_text(encoding="utf-8")
    ]
    assert owners == ["harness/model_kind.py"]
