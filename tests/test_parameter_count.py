"""The model's parameter count: counted from the adapter's torch modules (shared tensors once), written to
results.json as ``model.parameters``, never part of the run key, and kept when a cached run builds nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from conftest import TOY_TASK

from spotfake.harness.launch_index import INDEX_FILE
from spotfake.harness.model import Item, LazyModel, Model, build_model, count_parameters
from spotfake.harness.registry import MODELS
from spotfake.harness.results import RESULTS_FILE, read_results
from spotfake.harness.runner import MEASURED, RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

FAST = ScoringOptions(n_bootstrap=20)
TIED = 10 * 4 + 4 * 3 + 3
"""The network's count: a 10x4 embedding (tied with the output layer: counted once) and a 4->3 layer."""


class Generator:
    """Holds the network one attribute down, as the LMM adapters' generation engine does."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.tokenizer = object()


class TinyTorch(Model):
    """A deterministic expert with real torch modules: an embedding tied to its output layer, a hidden
    layer, the same network referenced twice, and a head inside a helper object."""

    name = "tiny-torch"
    kind = "expert"
    needs_images = False

    def __init__(self) -> None:
        torch.manual_seed(0)
        embed = torch.nn.Embedding(10, 4)
        out = torch.nn.Linear(4, 10, bias=False)
        out.weight = embed.weight  # tied: one tensor, counted once
        self.network = torch.nn.ModuleDict({"embed": embed, "hidden": torch.nn.Linear(4, 3), "out": out})
        self.alias = [self.network]  # the same modules again
        self.engine = Generator(torch.nn.Linear(3, 1))  # 4 more, one attribute down

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [Response(score=0.9 if item.sample.label == "fake" else 0.2) for item in items]


class Unmeasured(TinyTorch):
    """The same model, with a count nobody measured."""

    def parameter_count(self) -> int | None:
        return None


def _options(folder: Path) -> RunOptions:
    return RunOptions(output_dir=folder, progress=False, scoring=FAST)


def test_the_count_is_the_numel_sum_of_unique_parameters() -> None:
    model = TinyTorch()
    expected = sum(p.numel() for p in {id(p): p for p in model.network.parameters()}.values()) + 4
    assert model.parameter_count() == expected == TIED + 4
    assert count_parameters(object()) is None
    assert build_model("always-fake").parameter_count() is None
    assert build_model("random").no_parameters == "a fixed rule: no weights"


def test_results_json_carries_the_count_and_the_run_key_ignores_it(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 6})
    counted = run(TinyTorch(), {}, task, _options(tmp_path / "a")).results
    blank = run(Unmeasured(), {}, task, _options(tmp_path / "b")).results
    assert counted is not None and blank is not None
    assert counted["model"]["parameters"] == TIED + 4
    assert counted["model"]["parameters_note"] == MEASURED
    assert blank["model"]["parameters"] is None
    assert blank["model"]["parameters_note"] == "the adapter holds no torch modules"
    assert counted["run_key"] == blank["run_key"]
    assert counted["model"]["fingerprint"] == blank["model"]["fingerprint"]
    assert counted["metrics"] == blank["metrics"]
    (written,) = (tmp_path / "a").rglob(RESULTS_FILE)
    assert read_results(written)["model"]["parameters"] == TIED + 4  # valid against the schema


@pytest.fixture
def registered() -> str:
    MODELS.register("tiny-torch-params", TinyTorch, kind="expert", replace=True)
    return "tiny-torch-params"


def test_a_cached_run_keeps_the_count_without_building_and_an_old_index_builds_once(
    tmp_path: Path, registered: str
) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 6})
    first = run(LazyModel(registered), {}, task, _options(tmp_path))
    assert first.model_built and first.results is not None
    cached = run(LazyModel(registered), {}, task, _options(tmp_path))
    assert not cached.model_built and cached.n_predicted == 0
    assert cached.results is not None and cached.results["model"]["parameters"] == TIED + 4
    # an index written before counts existed: the model is built once more and its count recorded
    index = first.folder / INDEX_FILE
    entries = json.loads(index.read_text())
    for entry in entries.values():
        entry["model"].pop("parameters")
        entry["model"].pop("parameters_note")
    index.write_text(json.dumps(entries))
    old = run(LazyModel(registered), {}, task, _options(tmp_path))
    assert old.model_built and old.n_predicted == 0
    assert old.results is not None and old.results["model"]["parameters"] == TIED + 4
    assert old.results["run_key"] == first.results["run_key"]
