"""The paper suites over the published layouts: AIGIBench's table run end to end on a fixture copy of its
layout, DRCT's per-generator accuracy against all reals, and DDA's entries and alignment."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest

from spotfake.harness.cli import main
from spotfake.harness.metrics import metric_def
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.registry import TASKS
from spotfake.harness.suites.run import suite_tasks
from spotfake.harness.suites.spec import get_suite, parse_suite
from spotfake.harness.suites.table import suite_tables
from spotfake.harness.types import Record
from spotfake.tasks.readers.split_folders import AIGIBENCH_GROUPS, AIGIBENCH_SUBSETS


def noise_png(path: Path, seed: int, smooth: bool) -> None:
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    (image.filter(ImageFilter.GaussianBlur(2)) if smooth else image).save(path)


def aigibench_layout(folder: Path) -> Path:
    """A folder holding ``aigibench/test/<subset>/{0_real,1_fake}`` for all 25 subsets (2 images each); in
    every third subset one fake is as smooth as the reals, so accuracy differs across subsets."""
    for i, subset in enumerate(AIGIBENCH_SUBSETS):
        base = folder / "aigibench" / "test" / subset
        for k in range(2):
            noise_png(base / "0_real" / f"{k}.png", 100 * i + k, smooth=True)
            noise_png(base / "1_fake" / f"{k}.png", 100 * i + 50 + k, smooth=k == 1 and i % 3 == 0)
    return folder


def test_run_suite_aigibench_prints_the_aigibench_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = aigibench_layout(tmp_path / "data")
    out_dir = tmp_path / "runs"
    argv = ["run", "--suite", "aigibench", "--model", "npr-demo", "--data-root", str(data)]
    assert main([*argv, "--output-dir", str(out_dir), "--quiet", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| ") and "Acc real" in line)
    assert [c.strip() for c in header.strip("|").split("|")][1:] == [
        metric_def(m).label for m in ("acc_real", "acc_fake", "acc", "ap")
    ]
    rows = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| aigibench")]
    assert rows == [f"aigibench / {s}" for s in sorted(AIGIBENCH_SUBSETS)] + [
        f"aigibench group / {g}" for g in sorted(AIGIBENCH_GROUPS)
    ]
    assert "| mean |" in out and "| std |" in out and "| worst |" in out
    results = json.loads(next(out_dir.rglob("aigibench/results.json")).read_text())
    assert results["metrics"]["n"] == 100 and set(results["per_category"]) == set(AIGIBENCH_SUBSETS)
    # the mean row is the mean over the 25 subsets: the group rows are shown but not counted again
    acc = [results["per_category"][s]["acc"] for s in AIGIBENCH_SUBSETS]
    mean_line = next(line for line in out.splitlines() if line.startswith("| mean |"))
    shown = float(mean_line.split("|")[4].split()[0])
    assert len(set(acc)) > 1 and shown == pytest.approx(statistics.fmean(acc), abs=0.0051)
    groups = [v["acc"] for v in results["breakdowns"]["group"].values()]
    (table,) = suite_tables(get_suite("aigibench"), [results])
    column = table.metrics.index("acc")
    summary = {r.name: r.cells[column].value for r in table.rows[-3:]}
    assert summary == {"mean": statistics.fmean(acc), "std": statistics.stdev(acc), "worst": min(acc)}
    assert statistics.stdev(acc + groups) != summary["std"]
    assert main(["report", str(out_dir), "--suite", "aigibench", "--format", "csv"]) == 0
    assert "aigibench group / GAN deepfake" in capsys.readouterr().out


def test_an_entry_with_summary_false_is_shown_but_not_summarised() -> None:
    suite = parse_suite(
        {
            "name": "t",
            "metrics": ["acc"],
            "entries": [{"task": "demo", "rows_by": "generator", "summary": False}],
        },
        "t.yaml",
    )
    assert suite.entries[0].summary is False
    with pytest.raises(Exception, match="must be true or false"):
        parse_suite(
            {"name": "t", "metrics": ["acc"], "entries": [{"task": "demo", "summary": "no"}]}, "t.yaml"
        )


def record(i: int, label: str, verdict: str, category: str) -> Record:
    return Record(id=str(i), label=label, category=category, verdict=verdict)  # type: ignore[arg-type]


def test_bacc_all_reals_scores_a_generator_against_every_real() -> None:
    from sklearn.metrics import balanced_accuracy_score

    records = [
        record(0, "real", "real", "real"),
        record(1, "real", "fake", "real"),
        record(2, "real", "real", "real"),
        record(3, "fake", "fake", "sdxl"),
        record(4, "fake", "real", "sdxl"),
        record(5, "fake", "fake", "flux"),
    ]
    inputs = MetricInputs(records, "verdict")
    metric = metric_def("bacc_all_reals").evaluate
    for generator in ("sdxl", "flux"):
        group = np.array([r.category == generator for r in records], dtype=float)[None, :]
        keep = [r for r in records if r.category in ("real", generator)]
        expected = balanced_accuracy_score([r.label for r in keep], [r.verdict for r in keep])
        assert metric(inputs, group)[0] == pytest.approx(expected)
    whole = metric(inputs, np.ones((1, len(records))))[0]
    expected = balanced_accuracy_score([r.label for r in records], [r.verdict for r in records])
    assert whole == pytest.approx(expected)


def test_the_dda_suite_aligns_fakes_where_dda_does_and_names_tasks_that_exist() -> None:
    suite = get_suite("dda")
    assert all(e.task in TASKS for e in suite.entries)
    aligned = {e.task for e in suite.entries if e.args.get("align") == "jpeg96-fakes"}
    assert aligned == {"genimage", "forensynths", "aigcdetect"}
    assert get_suite("drct").entries[0].task == "drct2m"


def test_a_suite_computes_its_metrics_on_tasks_that_do_not_list_them(tmp_path: Path) -> None:
    root = tmp_path / "chameleon"
    noise_png(root / "0_real" / "a.png", 1, smooth=True)
    noise_png(root / "1_fake" / "b.png", 2, smooth=False)
    suite = parse_suite(
        {"name": "t", "metrics": ["bacc_all_reals", "acc"], "entries": ["chameleon"]}, "t.yaml"
    )
    (task,) = suite_tasks(suite, str(tmp_path), {})
    assert "bacc_all_reals" not in TASKS.get("chameleon").metrics and "bacc_all_reals" in task.spec.metrics
