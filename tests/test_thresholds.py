"""Threshold policy: accuracy at 0.5 stays the headline, ``--threshold calibrate=SPLIT`` adds the accuracy at a
threshold fitted on a validation split (``acc_calibrated``), and a threshold fitted on the test data is
refused by every route: the same split, another name for the same files, a forged results file, a
predictions file."""

from __future__ import annotations

import argparse
import copy
import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import TESTS_DIR

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.calibrated import calibrated_accuracy
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.summary import summarize
from spotfake.harness.model import Item, Model
from spotfake.harness.rescore import score_predictions
from spotfake.harness.results import read_records, read_results
from spotfake.harness.run_identity import RunIdentity, TaskIdentity
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import Calibration, ScoringOptions, score_and_summarize, threshold_arg
from spotfake.harness.task import load_task
from spotfake.harness.types import Record, Response
from spotfake.leaderboard.submission.verify import scoring_options

TOY_SPLITS = TESTS_DIR / "toy_splits_task.yaml"
VAL = Calibration(split={"split": "val"})


class Scorer(Model):
    """Answers each sample's own ``score`` (a detector whose scores sit above 0.5 for reals too)."""

    kind = "expert"
    needs_images = False

    def __init__(self) -> None:
        self.name = "scorer"
        self.seen: list[str] = []

    def predict(self, items: Sequence[Item]) -> list[Response]:
        self.seen += [i.sample.id for i in items]
        return [Response(score=float(i.sample.metadata["score"])) for i in items]


class Talker(Model):
    """Answers in words only: no p(fake) score to calibrate."""

    kind = "lmm"
    needs_images = False
    name = "talker"

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [Response(text="This is a fake image.") for _ in items]


def splits(root: Path, n: int = 60) -> Path:
    """``train``, ``val`` and ``test`` CSVs: reals scored in [0.35, 0.7], fakes in [0.6, 0.95], so the best
    threshold is well above 0.5 and a third of the reals are wrong at 0.5."""
    root.mkdir(parents=True, exist_ok=True)
    for seed, split in enumerate(("train", "val", "test")):
        rng = np.random.default_rng(seed)
        with (root / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "label", "score"])
            for i in range(n):
                fake = i % 2 == 1
                low, high = (0.6, 0.95) if fake else (0.35, 0.7)
                writer.writerow(
                    [f"{split}-{i:03d}", "fake" if fake else "real", round(rng.uniform(low, high), 4)]
                )
    return root


def options(tmp_path: Path, calibration: Calibration | None = VAL) -> RunOptions:
    scoring = ScoringOptions(n_bootstrap=50, calibration=calibration)
    return RunOptions(output_dir=tmp_path / "runs", progress=False, scoring=scoring)


def labels_scores(task_root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    with (task_root / f"{split}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return np.array([r["label"] == "fake" for r in rows]), np.array([float(r["score"]) for r in rows])


def balanced(fake: np.ndarray, scores: np.ndarray, t: float) -> float:
    called = scores >= t
    return float((called[fake].mean() + (~called[~fake]).mean()) / 2)


def test_calibrate_fits_on_val_and_reports_both_accuracies(tmp_path: Path) -> None:
    root = splits(tmp_path / "data")
    task = load_task(str(TOY_SPLITS), root)
    model = Scorer()
    outcome = run(model, {}, task, options(tmp_path))
    assert outcome.results is not None
    results, scoring = outcome.results, outcome.results["scoring"]
    entry = scoring["calibration"]
    # the verdicts and acc stay at 0.5
    fake, scores = labels_scores(root, "test")
    assert scoring["threshold"] == 0.5
    assert results["metrics"]["acc"] == pytest.approx(float(((scores >= 0.5) == fake).mean()))
    # the threshold is the best balanced accuracy on val, found here by trying every score
    val_fake, val_scores = labels_scores(root, "val")
    best = max(balanced(val_fake, val_scores, t) for t in np.unique(val_scores))
    assert entry["balanced_acc"] == pytest.approx(best)
    assert balanced(val_fake, val_scores, entry["threshold"]) == pytest.approx(best)
    assert 0.5 < entry["threshold"] < 0.8 and (entry["n_real"], entry["n_fake"]) == (30, 30)
    # acc_calibrated: the test scores at that threshold, reported beside acc
    calibrated = float(((scores >= entry["threshold"]) == fake).mean())
    assert results["metrics"]["acc_calibrated"] == pytest.approx(calibrated)
    assert calibrated > results["metrics"]["acc"]
    # where it came from: the split, and the calibration task's identity (other data than the test's)
    held = load_task(str(TOY_SPLITS), root, {"split": "val"})
    assert entry["split"] == {"split": "val"}
    assert TaskIdentity.from_entry(entry["task"]).key_fields() == TaskIdentity.of(held).key_fields()
    assert entry["task"]["data_fingerprint"] != results["task"]["data_fingerprint"]
    # the val run is an ordinary run with its own folder and key, reused by the next test run
    val_folder = RunIdentity.of("scorer", {}, held).folder(tmp_path / "runs")
    assert read_results(val_folder / "results.json")["run_key"] == entry["run_key"]
    assert sorted(model.seen[:60]) == [s.id for s in held.samples]  # val first, then test
    assert sorted(model.seen[60:]) == [s.id for s in task.samples]
    again = run(model, {}, task, options(tmp_path))
    assert len(model.seen) == 120 and again.results is not None
    assert again.results["metrics"]["acc_calibrated"] == results["metrics"]["acc_calibrated"]


def test_a_submission_s_calibration_is_re_checked_and_a_forged_source_refused(tmp_path: Path) -> None:
    root = splits(tmp_path / "data")
    task = load_task(str(TOY_SPLITS), root)
    outcome = run(Scorer(), {}, task, options(tmp_path))
    assert outcome.results is not None
    records = read_records(outcome.folder / "samples.jsonl")
    summary, _ = score_and_summarize(task, records, scoring_options(outcome.results), model_kind="expert")
    assert summary.metrics["acc_calibrated"] == outcome.results["metrics"]["acc_calibrated"]
    forged = copy.deepcopy(outcome.results)
    forged["scoring"]["calibration"]["task"] = dict(forged["task"])  # "fitted on val", says the threshold
    with pytest.raises(SpotfakeError, match="the test task itself") as info:
        score_and_summarize(task, records, scoring_options(forged), model_kind="expert")
    assert "\n" not in str(info.value)
    forged["scoring"]["calibration"] = {"threshold": "0.6"}
    with pytest.raises(SpotfakeError, match="scoring.calibration must record its threshold"):
        scoring_options(forged)


def test_the_test_split_or_the_same_files_are_refused_before_the_model_runs(tmp_path: Path) -> None:
    root = splits(tmp_path / "data")
    task = load_task(str(TOY_SPLITS), root)
    model = Scorer()
    with pytest.raises(SpotfakeError, match=r"calibration split is the test task itself") as info:
        run(model, {}, task, options(tmp_path, Calibration(split={"split": "test"})))
    assert "calibrate=split=test" in str(info.value) and "\n" not in str(info.value)
    same_files = Calibration(split={"split": "holdout", "file": "test"})  # another name, the test's CSV
    with pytest.raises(SpotfakeError, match=r"the same data as the test task \(data fingerprint"):
        run(model, {}, task, options(tmp_path, same_files))
    assert model.seen == []
    fitted_on_test = Calibration(
        split={"split": "val"}, threshold=0.6, source=TaskIdentity.of(task), run_key="k"
    )  # built by hand: scoring still compares identities
    records = [Record(id=s.id, label=s.label, category=None, score=0.7) for s in task.samples]  # type: ignore[arg-type]
    with pytest.raises(SpotfakeError, match="the test task itself"):
        score_and_summarize(task, records, ScoringOptions(calibration=fitted_on_test), model_kind="expert")


def test_calibration_needs_scores_and_a_run(tmp_path: Path) -> None:
    root = splits(tmp_path / "data")
    task = load_task(str(TOY_SPLITS), root)
    with pytest.raises(
        SpotfakeError, match="no p\\(fake\\) scores with a real/fake label on the calibration split"
    ):
        run(Talker(), {}, task, options(tmp_path))
    responses = {s.id: Response(score=0.7) for s in task.samples}
    with pytest.raises(SpotfakeError, match="which only `spotfake run` does"):
        score_predictions(
            task,
            responses,
            model_name="preds",
            output_dir=tmp_path / "scored",
            scoring_options=ScoringOptions(calibration=VAL),
            source_file="preds.jsonl",
            fingerprint="f",
        )
    assert not (tmp_path / "scored").exists()


def test_acc_calibrated_is_a_pure_function_of_scores_labels_and_the_threshold() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 40).astype(bool)
    scores = rng.random(40)
    records = [
        Record(
            id=str(i), label="fake" if y else "real", category=None, score=None if i % 9 == 0 else float(s)
        )  # type: ignore[arg-type]
        for i, (s, y) in enumerate(zip(scores, labels, strict=True))
    ]
    weights = np.vstack([np.ones(40), rng.integers(0, 3, 40).astype(float)])
    inputs = MetricInputs(records, "verdict", calibrated_threshold=0.42)
    scored = np.array([r.score is not None for r in records])
    right = scored & ((scores >= 0.42) == labels)  # no score: wrong, like an unparsed answer in acc
    expected = (weights @ right) / weights.sum(axis=1)
    assert calibrated_accuracy(inputs, weights) == pytest.approx(expected)
    assert np.isnan(calibrated_accuracy(MetricInputs(records, "verdict"), weights)).all()
    summary = summarize(records, answer_kind="verdict", metrics=["acc_calibrated"], n_bootstrap=0)
    assert summary.metrics["acc_calibrated"] is None
    assert "calibrate=SPLIT" in summary.null_reasons["acc_calibrated"]


@pytest.mark.parametrize(
    ("text", "value", "split"),
    [
        ("0.3", 0.3, None),
        ("calibrate=val", 0.5, {"split": "val"}),
        ("calibrate=split=val,file=x", 0.5, {"split": "val", "file": "x"}),
    ],
)
def test_threshold_argument(text: str, value: float, split: dict | None) -> None:
    parsed = threshold_arg(text)
    assert (parsed.value, parsed.calibrate) == (value, split)
    fields = parsed.fields()
    assert fields["threshold"] == value
    assert (fields["calibration"] is None) == (split is None)


@pytest.mark.parametrize("text", ["1.5", "abc", "calibrate=", "nan"])
def test_bad_threshold_arguments_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        threshold_arg(text)


def test_cli_run_with_calibrate_and_its_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = splits(tmp_path / "data")
    base = ["--task", str(TOY_SPLITS), "--data-root", str(root), "--output-dir", str(tmp_path / "o")]
    argv = ["run", "--model", "random", *base, "--quiet", "--bootstrap", "0"]
    assert main([*argv, "--threshold", "calibrate=split=val"]) == 0
    assert "Acc (calibrated thr.)" in capsys.readouterr().out  # beside Acc in the printed table
    results = read_results(next((tmp_path / "o").rglob("toy-splits/results.json")))
    assert results["metrics"]["acc_calibrated"] is not None
    assert results["scoring"]["calibration"]["task"]["args"]["split"] == "val"
    capsys.readouterr()
    assert main([*argv, "--threshold", "calibrate=split=test"]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and len(err.strip().splitlines()) == 1
    preds = tmp_path / "preds.jsonl"
    preds.write_text('{"id": "test-000", "score": 0.7}\n')
    assert main(["score", "--predictions", str(preds), *base, "--threshold", "calibrate=val"]) == 2
    err = capsys.readouterr().err
    assert "only `spotfake run`" in err and len(err.strip().splitlines()) == 1
