"""How far the published EER and TPR@FPR conventions sit from spotfake's defaults, by how tied scores are.

    .venv/bin/python benchmarks/metric_conventions.py [--n 1000] [--seeds 200]

Draws ``n`` scores (40% fakes; p(fake) from two clipped normals, means 0.6 / 0.42, sd 0.18), rounds them
to 3, 2 or 1 decimals or to three levels (a detector that outputs few distinct values), and reports, over
``seeds`` draws, the mean and the largest absolute difference between each convention and its default:
``eer_nearest`` and ``eer_fvc`` against ``eer``, ``tpr_at_fpr*_interp`` against ``tpr_at_fpr*``.
Writes benchmarks/results/metric_conventions.json; docs/metrics.md quotes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from spotfake.harness.metrics import summarize
from spotfake.harness.types import Record

PAIRS = {
    "eer_nearest": "eer",
    "eer_fvc": "eer",
    "tpr_at_fpr5_interp": "tpr_at_fpr5",
    "tpr_at_fpr1_interp": "tpr_at_fpr1",
}
ROUNDINGS = {"none": None, "3 decimals": 3, "2 decimals": 2, "1 decimal": 1, "3 levels": -1}


def draw(n: int, seed: int, rounding: int | None) -> list[Record]:
    """``n`` labelled records with scores rounded as ``rounding`` says (-1: to 0.2, 0.5 or 0.8)."""
    rng = np.random.default_rng(seed)
    fake = rng.random(n) < 0.4
    scores = np.clip(rng.normal(np.where(fake, 0.6, 0.42), 0.18), 0.0, 1.0)
    if rounding == -1:
        scores = np.array([0.2, 0.5, 0.8])[np.digitize(scores, [0.4, 0.6])]
    elif rounding is not None:
        scores = np.round(scores, rounding)
    return [
        Record(id=str(i), label="fake" if f else "real", score=float(s), verdict=None)
        for i, (f, s) in enumerate(zip(fake, scores, strict=True))
    ]


def measure(n: int, seeds: int) -> dict[str, dict[str, dict[str, float]]]:
    """rounding -> convention -> {mean_abs_diff, max_abs_diff} against its default."""
    names = [*PAIRS, *dict.fromkeys(PAIRS.values())]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for label, rounding in ROUNDINGS.items():
        diffs: dict[str, list[float]] = {k: [] for k in PAIRS}
        for seed in range(seeds):
            m = summarize(
                draw(n, seed, rounding), answer_kind="verdict", metrics=names, n_bootstrap=0
            ).metrics
            for convention, default in PAIRS.items():
                diffs[convention].append(abs(float(m[convention]) - float(m[default])))  # type: ignore[arg-type]
        out[label] = {
            k: {"mean_abs_diff": round(float(np.mean(v)), 4), "max_abs_diff": round(float(np.max(v)), 4)}
            for k, v in diffs.items()
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    result = {"n": args.n, "seeds": args.seeds, "gaps": measure(args.n, args.seeds)}
    path = Path(__file__).resolve().parent / "results" / "metric_conventions.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
