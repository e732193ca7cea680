"""The README's two ways to evaluate your own detector, end to end: a predictions file and a plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import TOY_TASK

PLUGIN = """
from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response


class MyDetector(Model):
    kind = "expert"
    needs_images = False

    def __init__(self, threshold: str = "0.5") -> None:
        self.threshold = float(threshold)

    def settings(self) -> dict:
        return {"threshold": self.threshold}

    def predict(self, items: list[Item]) -> list[Response]:
        # a "detector" that is right on every id ending in an odd digit
        return [Response(score=0.9 if int(i.sample.id[-1]) % 2 else 0.1) for i in items]


def register() -> None:
    from spotfake.harness.registry import MODELS

    MODELS.register("my-detector", MyDetector, description="my detector", kind="expert")
"""


def make_plugin(root: Path) -> None:
    """An installed-looking package: its module and a dist-info folder with the entry point."""
    (root / "my_detector").mkdir(parents=True)
    (root / "my_detector" / "__init__.py").write_text("")
    (root / "my_detector" / "adapter.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "my_detector-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-detector\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[spotfake.models]\nmy-detector = my_detector.adapter:register\n")


def spotfake(args: list[str], tmp: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    paths = [str(TOY_TASK.parent)] + ([str(extra_path)] if extra_path else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [sys.executable, "-m", "spotfake.harness.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=300,
    )


def test_a_plugin_model_is_found_and_evaluated(tmp_path: Path) -> None:
    make_plugin(tmp_path / "site")
    listed = spotfake(["list", "models", "my-*"], tmp_path, tmp_path / "site")
    assert listed.returncode == 0, listed.stderr
    assert "my-detector" in listed.stdout and "expert" in listed.stdout
    ran = spotfake(
        ["run", "--model", "my-detector", "--task", str(TOY_TASK), "--bootstrap", "50", "--quiet"],
        tmp_path,
        tmp_path / "site",
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads((tmp_path / "runs" / "my-detector" / "toy" / "results.json").read_text())
    assert results["model"]["kind"] == "expert" and results["model"]["settings"] == {"threshold": 0.5}
    assert results["metrics"]["auc"] is not None


def test_a_predictions_file_is_scored(tmp_path: Path) -> None:
    preds = tmp_path / "my_detector.jsonl"
    rows = [{"id": f"s{i:05d}", "response": "This is a fake image. Smooth skin."} for i in range(20)]
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scored = spotfake(
        ["score", "--task", str(TOY_TASK), "--predictions", str(preds), "--bootstrap", "50"], tmp_path
    )
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads((tmp_path / "runs" / "my_detector" / "toy" / "results.json").read_text())["metrics"]
    assert metrics["acc"] == 13 / 20 and metrics["rouge_l"] > 0


METRIC_PLUGIN = """
import numpy as np

from spotfake.harness.metrics import MetricDef, register_metric


def fake_rate(inputs, weights):
    # share of labelled samples the model called fake, from the records, with any weights
    called = np.array([r.verdict == "fake" for r in inputs.records], dtype=float)
    labelled = np.array([r.label is not None for r in inputs.records], dtype=float)
    return (weights @ (called * labelled)) / (weights @ labelled)


def register() -> None:
    register_metric(
        MetricDef(
            name="fake_rate",
            label="Fake rate",
            evaluate=fake_rate,
            higher_is_better=False,
            needs="verdicts",
            card="share of samples called fake",
        )
    )
"""


def test_a_plugin_metric_is_listed_validated_and_reported_with_an_interval(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "my_metric").mkdir(parents=True)
    (site / "my_metric" / "__init__.py").write_text(textwrap.dedent(METRIC_PLUGIN))
    info = site / "my_metric-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-metric\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[spotfake.metrics]\nfake-rate = my_metric:register\n")
    task = tmp_path / "toy_fake_rate.yaml"
    task.write_text(TOY_TASK.read_text().replace("metrics: [", "metrics: [fake_rate, "))

    listed = spotfake(["list", "metrics", "fake*"], tmp_path, site)
    assert listed.returncode == 0, listed.stderr
    assert "fake_rate" in listed.stdout and "lower" in listed.stdout
    ran = spotfake(
        ["run", "--model", "always-fake", "--task", str(task), "--bootstrap", "50", "--quiet"], tmp_path, site
    )
    assert ran.returncode == 0, ran.stderr
    found = list((tmp_path / "runs").rglob("results.json"))
    assert len(found) == 1
    results = json.loads(found[0].read_text())
    assert results["metrics"]["fake_rate"] == 1.0 and results["ci"]["fake_rate"] == [1.0, 1.0]

    unknown = tmp_path / "toy_unknown.yaml"
    unknown.write_text(TOY_TASK.read_text().replace("metrics: [", "metrics: [fake_rat, "))
    refused = spotfake(["run", "--model", "always-fake", "--task", str(unknown), "--quiet"], tmp_path, site)
    assert refused.returncode == 2
    assert "unknown metric 'fake_rat'" in refused.stderr and "fake_rate" in refused.stderr


FIELD_PLUGIN = """
from spotfake.harness.metrics import (
    MetricDef,
    RecordField,
    mean_of_field,
    per_record,
    register_metric,
    register_metric_group,
)


def confidence(record, references):
    # how far the model's p(fake) is from a coin flip, per record (None without a score)
    return None if record.score is None else abs(2 * record.score - 1)


CONFIDENCE = RecordField("confidence", "number", per_record(confidence), "|2 p(fake) - 1|")


def register() -> None:
    register_metric(
        MetricDef(
            name="mean_confidence",
            label="Confidence",
            evaluate=mean_of_field("confidence"),
            needs="scores",
            card="mean distance of p(fake) from 0.5, doubled",
            record_fields=(CONFIDENCE,),
        )
    )
    register_metric_group("my_suite", ("acc", "auc", "mean_confidence"), description="what I report")
"""


def make_field_plugin(site: Path) -> None:
    (site / "my_confidence").mkdir(parents=True)
    (site / "my_confidence" / "__init__.py").write_text(textwrap.dedent(FIELD_PLUGIN))
    info = site / "my_confidence-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-confidence\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[spotfake.metrics]\nconfidence = my_confidence:register\n")


def read_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_plugin_metric_with_its_own_record_field_reaches_a_builtin_task(tmp_path: Path) -> None:
    site = tmp_path / "site"
    make_field_plugin(site)
    listed = spotfake(["list", "metrics", "*confidence"], tmp_path, site)
    assert listed.returncode == 0 and "mean_confidence" in listed.stdout, listed.stderr
    run = ["run", "--model", "random", "--task", "demo", "--bootstrap", "50", "--quiet"]

    added = spotfake([*run, "--metrics", "+mean_confidence", "--output-dir", "added"], tmp_path, site)
    assert added.returncode == 0, added.stderr
    folder = tmp_path / "added" / "random" / "demo"
    records = read_lines(folder / "samples.jsonl")
    assert all(r["fields"] == {"confidence": abs(2 * r["score"] - 1)} for r in records)
    results = json.loads((folder / "results.json").read_text())
    expected = sum(r["fields"]["confidence"] for r in records) / len(records)
    assert results["metrics"]["mean_confidence"] == pytest.approx(expected)
    low, high = results["ci"]["mean_confidence"]
    assert low < expected < high
    assert results["metrics"]["rouge_l"] is None and "acc" in results["metrics"]  # the task's own list stays

    # records are read back and re-scored: a stored field is recomputed, never trusted
    records[0]["fields"]["confidence"] = 99.0
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "results.json").unlink()  # so the rerun scores again (an unchanged run keeps its results.json)
    again = spotfake([*run, "--metrics", "+mean_confidence", "--output-dir", "added"], tmp_path, site)
    assert again.returncode == 0, again.stderr
    rescored = json.loads((folder / "results.json").read_text())
    assert rescored["metrics"]["mean_confidence"] == pytest.approx(expected)
    assert read_lines(folder / "samples.jsonl")[0]["fields"]["confidence"] != 99.0

    grouped = spotfake([*run, "--metrics", "calibration,my_suite", "--output-dir", "grouped"], tmp_path, site)
    assert grouped.returncode == 0, grouped.stderr
    results = json.loads((tmp_path / "grouped" / "random" / "demo" / "results.json").read_text())
    chosen = {k for k in results["metrics"] if not k.startswith("n") and k != "unparsed_rate"}
    assert chosen == {"ece", "brier", "acc", "auc", "mean_confidence"}
    assert results["metrics"]["mean_confidence"] == pytest.approx(expected)

    refused = spotfake([*run, "--metrics", "+my_suit", "--output-dir", "refused"], tmp_path, site)
    assert refused.returncode == 2 and "did you mean 'my_suite'" in refused.stderr
    assert not (tmp_path / "refused").exists()
