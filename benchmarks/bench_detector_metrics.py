"""What the detector metrics (AP, acc_real/acc_fake, EER, TPR@FPR, ECE, Brier) add to `spotfake score`.

    .venv/bin/python benchmarks/bench_detector_metrics.py [--n 50000] [--bootstrap 1000] [--repeats 3]

Scores one predictions file of ``n`` p(fake) scores (4 categories, a generator breakdown) through the
same path as ``spotfake score`` (read and check predictions, records, metrics, 1,000 bootstrap
resamples, results.json), once with the metrics tasks asked for before (acc, F1 family, AUC) and once
with the detector metrics added. Writes benchmarks/results/detector_metrics.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from spotfake.harness.jsonio import iter_json_lines
from spotfake.harness.rescore import score_predictions
from spotfake.harness.scoring import ScoringOptions, responses_from_predictions
from spotfake.harness.task import LoadedTask, TaskSpec
from spotfake.harness.types import Sample

BEFORE = ("acc", "f1", "f1_fake", "f1_macro", "balanced_acc", "auc")
ADDED = ("acc_real", "acc_fake", "ap", "eer", "tpr_at_fpr5", "tpr_at_fpr1", "ece", "brier")


def synthetic_task(n: int, metrics: tuple[str, ...]) -> LoadedTask:
    spec = TaskSpec(
        name="synthetic",
        version="1",
        description="detector metrics benchmark",
        reader="-",
        metrics=metrics,
        breakdowns=("generator",),
    )
    samples = [
        Sample(
            id=f"img/{i:07d}.png",
            label="fake" if i % 3 else "real",
            prompt="Is this image real or fake?",
            category=("animal", "human", "object", "scene")[i % 4],
            metadata={"generator": ("gan", "diffusion")[i % 2]} if i % 3 else {},
        )
        for i in range(n)
    ]
    return LoadedTask(spec=spec, samples=samples, data_fingerprint="bench", data_root=None, args={})


def write_predictions(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        for i in range(n):
            centre = 0.62 if i % 3 else 0.38
            score = float(np.clip(rng.normal(centre, 0.2), 0.0, 1.0))
            out.write(json.dumps({"id": f"img/{i:07d}.png", "score": round(score, 4)}) + "\n")


def time_score(task: LoadedTask, predictions: Path, out: Path, n_bootstrap: int) -> float:
    started = time.perf_counter()
    responses = responses_from_predictions(iter_json_lines(predictions, what="predictions file"), "bench")
    score_predictions(
        task,
        responses,
        model_name="bench",
        output_dir=out,
        scoring_options=ScoringOptions(n_bootstrap=n_bootstrap),
        source_file=str(predictions),
        fingerprint="bench",
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "detector_metrics.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        predictions = Path(tmp) / "predictions.jsonl"
        write_predictions(predictions, args.n)
        times: dict[str, list[float]] = {"before": [], "with_detector_metrics": []}
        for r in range(args.repeats):
            for label, metrics in (("before", BEFORE), ("with_detector_metrics", BEFORE + ADDED)):
                task = synthetic_task(args.n, metrics)
                times[label].append(time_score(task, predictions, Path(tmp) / f"{label}{r}", args.bootstrap))
    before = statistics.median(times["before"])
    after = statistics.median(times["with_detector_metrics"])
    report = {
        "benchmark": "spotfake score of n p(fake) scores, metrics and bootstrap intervals included",
        "n": args.n,
        "bootstrap_resamples": args.bootstrap,
        "repeats": args.repeats,
        "before_metrics": list(BEFORE),
        "added_metrics": list(ADDED),
        "seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "median_before_s": round(before, 3),
        "median_with_detector_metrics_s": round(after, 3),
        "added_fraction": round(after / before - 1.0, 4),
        "target_added_fraction": 0.20,
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
