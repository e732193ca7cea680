"""The task YAML files: each loads, is registered under its file name, and names a reader that exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spotfake.harness.metrics import metric_def
from spotfake.harness.registry import TASKS, import_object
from spotfake.harness.task import TaskSpec, load_spec_file
from spotfake.tasks.registry import DEFINITIONS

FILES = sorted(DEFINITIONS.glob("*.yaml"))
EXPECTED = {
    "fakeclue",
    "fakeclue-hf",
    "fakeclue-images",
    "loki",
    "loki-judgment",
    "loki-mc",
    "loki-explain",
    "ddvqa",
    "imagefolder",
    "genimage",
    "forensynths",
    "chameleon",
}


def test_the_expected_tasks_are_defined() -> None:
    assert {path.stem for path in FILES} >= EXPECTED


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_definition_is_complete_and_consistent(path: Path) -> None:
    spec = load_spec_file(path)
    assert spec.name == path.stem
    assert spec.description and "\n" not in spec.description and len(spec.description) <= 110
    assert callable(import_object(spec.reader))
    assert spec.answer_kind in ("verdict", "yesno", "choice")
    for name in spec.metrics:  # every metric is registered and can have a value on this kind of task
        assert metric_def(name).applies(spec.answer_kind), f"{name} never applies to {spec.answer_kind}"
    assert spec.name in TASKS
    registered: TaskSpec = TASKS.get(spec.name)
    assert registered.reader == spec.reader
    assert TASKS.entry(spec.name).description == spec.description


def test_every_reported_row_is_filed_under_a_task_that_lists_its_metrics() -> None:
    """Published rows sit beside measured ones only when their task and metric names are spotfake's."""
    reported = sorted((Path(__file__).resolve().parents[1] / "results" / "reported").rglob("results.json"))
    assert len(reported) >= 40
    tasks = set()
    for path in reported:
        results = json.loads(path.read_text(encoding="utf-8"))
        task = results["task"]["name"]
        assert task in TASKS, f"{path}: {task} is not a task"
        assert path.parent.name == task
        assert set(results["metrics"]) <= set(TASKS.get(task).metrics), path
        tasks.add(task)
    assert {"ffpp", "dmimage"} <= tasks
