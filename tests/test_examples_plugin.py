"""The README's two ways to evaluate your own detector, end to end: a predictions file and a plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
