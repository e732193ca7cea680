"""The runner: records, results, resume after a kill, image errors, and re-scoring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import TOY_TASK
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model, build_model
from spotfake.harness.rescore import score_predictions
from spotfake.harness.results import read_records, read_results
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

FAST = ScoringOptions(n_bootstrap=200)


def options(tmp_path: Path, **kw: object) -> RunOptions:
    return RunOptions(output_dir=tmp_path / "runs", progress=False, scoring=FAST, **kw)  # type: ignore[arg-type]


class Echo(Model):
    """Says 'fake' for ids in ``fake_ids`` and 'real' otherwise; counts calls; can die after N batches."""

    kind = "lmm"

    def __init__(self, fake_ids: set[str], die_after: int | None = None, needs_images: bool = False) -> None:
        self.name = "echo"
        self.fake_ids = fake_ids
        self.die_after = die_after
        self.needs_images = needs_images
        self.seen: list[str] = []
        self.batches = 0

    def predict(self, items: Sequence[Item]) -> list[Response]:
        if self.die_after is not None and self.batches >= self.die_after:
            raise KeyboardInterrupt
        self.batches += 1
        self.seen += [i.sample.id for i in items]
        return [
            Response(text=f"This is a {'fake' if i.sample.id in self.fake_ids else 'real'} image.")
            for i in items
        ]


def test_always_fake_accuracy_is_the_fake_fraction(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 30})
    outcome = run(build_model("always-fake"), {}, task, options(tmp_path))
    fakes = sum(s.label == "fake" for s in task.samples)
    assert outcome.results is not None
    assert outcome.results["metrics"]["acc"] == pytest.approx(fakes / 30)
    assert outcome.results["metrics"]["unparsed_rate"] == 0
    assert outcome.results["task"]["n"] == 30
    records = read_records(outcome.folder / "samples.jsonl")
    assert [r.id for r in records] == [s.id for s in task.samples]
    assert all(r.verdict == "fake" for r in records)
    assert read_results(outcome.folder / "results.json")["model"]["name"] == "always-fake"
    assert set(outcome.results["breakdowns"]["generator"]) == {"none", "gan", "vae"}


def test_killed_run_resumes_without_asking_again(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 25})
    truth = {s.id for s in task.samples if s.label == "fake"}
    dying = Echo(truth, die_after=2)
    with pytest.raises(KeyboardInterrupt):
        run(dying, {}, task, options(tmp_path, batch_size=4))
    partial = (tmp_path / "runs" / "echo" / "toy@n=25" / "samples.jsonl").read_text().splitlines()
    assert len(partial) == 8  # two whole batches were flushed before the kill

    again = Echo(truth)
    outcome = run(again, {}, task, options(tmp_path, batch_size=4))
    assert outcome.folder == tmp_path / "runs" / "echo" / "toy@n=25"
    assert set(again.seen).isdisjoint(dying.seen)
    assert len(again.seen) == 17
    assert outcome.n_reused == 8
    assert outcome.results is not None and outcome.results["metrics"]["acc"] == 1.0

    fresh = Echo(truth)
    run(fresh, {}, task, options(tmp_path, batch_size=4))
    assert fresh.seen == []  # everything recorded: nothing is asked again


def test_torn_last_line_is_dropped_and_redone(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 6})
    truth = {s.id for s in task.samples if s.label == "fake"}
    path = run(Echo(truth), {}, task, options(tmp_path, batch_size=2)).folder / "samples.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    again = Echo(truth)
    outcome = run(again, {}, task, options(tmp_path, batch_size=2))
    assert len(again.seen) == 3
    assert outcome.results is not None and outcome.results["metrics"]["n_missing"] == 0


def test_changed_model_settings_do_not_reuse_records(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 5})
    first = run(build_model("random", {"seed": "1"}), {"seed": "1"}, task, options(tmp_path))
    model = build_model("random", {"seed": "2"})
    outcome = run(model, {"seed": "2"}, task, options(tmp_path))
    assert outcome.n_predicted == 5 and outcome.folder != first.folder
    assert (first.folder / "results.json").is_file() and (outcome.folder / "results.json").is_file()
    same_folder = build_model("random", {"seed": "2"})
    same_folder.settings = lambda: {"seed": 2, "variant": "other"}  # type: ignore[method-assign]
    other = run(same_folder, {"seed": "2"}, task, options(tmp_path))
    assert other.folder == outcome.folder and other.n_predicted == 5
    assert list(outcome.folder.glob("samples.previous-*.jsonl"))
    back = run(build_model("random", {"seed": "2"}), {"seed": "2"}, task, options(tmp_path))
    assert back.n_predicted == 0 and back.n_reused == 5  # the earlier settings' records come back


def test_missing_and_corrupt_images_become_error_records(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(root / f"img_{i}.png")
    (root / "img_4.png").write_bytes(b"not a png")
    task = load_task(str(TOY_TASK), data_root=root, task_args={"n": 6})
    model = Echo(set(), needs_images=True)
    outcome = run(model, {}, task, options(tmp_path, batch_size=3))
    assert outcome.results is not None
    assert outcome.results["metrics"]["n_errors"] == 2
    records = {r.id: r for r in read_records(outcome.folder / "samples.jsonl")}
    assert "cannot read image" in (records["s00004"].error or "")
    assert "image not found" in (records["s00005"].error or "") and "img_5.png" in (
        records["s00005"].error or ""
    )
    assert records["s00004"].verdict is None and records["s00004"].correct is False
    assert sorted(model.seen) == [f"s0000{i}" for i in range(4)]

    with pytest.raises(SpotfakeError, match="img_4.png"):
        run(Echo(set(), needs_images=True), {}, task, options(tmp_path / "strict", batch_size=3, strict=True))


def test_rescoring_saved_predictions_matches_the_run(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 12})
    outcome = run(build_model("random", {"seed": "3"}), {}, task, options(tmp_path))
    records = read_records(outcome.folder / "samples.jsonl")
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": r.id, "response": r.response}) + "\n" for r in records))
    from spotfake.harness.io import iter_jsonl
    from spotfake.harness.scoring import responses_from_predictions

    _, rescored = score_predictions(
        task,
        responses_from_predictions(list(iter_jsonl(preds)), str(preds)),
        model_name="saved",
        output_dir=tmp_path / "scored",
        scoring_options=FAST,
        source_file=str(preds),
        fingerprint="x",
        model_kind=outcome.results["model"]["kind"] if outcome.results else None,
    )
    assert outcome.results is not None
    for key in ("acc", "f1", "f1_fake", "balanced_acc", "rouge_l"):
        assert rescored["metrics"][key] == outcome.results["metrics"][key]
    floor = outcome.results.get("verdict_only_floor", {})  # a baseline's sentence: its ROUGE-L is the floor
    assert floor.get("rouge_l") is not None and rescored.get("verdict_only_floor") == floor
    assert rescored["ci"]["acc"] == outcome.results["ci"]["acc"]


def test_limit_keeps_records_beyond_it_for_later(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 10})
    truth = {s.id for s in task.samples if s.label == "fake"}
    run(Echo(truth), {}, task, options(tmp_path))
    small = run(Echo(truth), {}, task, options(tmp_path, limit=4))
    assert small.results is not None and small.results["task"]["n"] == 4
    again = Echo(truth)
    full = run(again, {}, task, options(tmp_path))
    assert again.seen == [] and full.results is not None and full.results["task"]["n"] == 10
