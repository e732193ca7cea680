"""``acc_oracle``: accuracy at the threshold that is best on the test labels, a diagnostic never ranked."""

from __future__ import annotations

import numpy as np
import pytest

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.oracle import oracle_accuracy
from spotfake.harness.metrics.registry import metric_def
from spotfake.harness.types import Record
from spotfake.leaderboard import data as lb


def _records(scores: np.ndarray, labels: np.ndarray) -> list[Record]:
    return [
        Record(id=str(i), label="fake" if y else "real", category=None, score=float(s), verdict=None)  # type: ignore[arg-type]
        for i, (s, y) in enumerate(zip(scores, labels, strict=True))
    ]


def _explicit(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Every threshold tried by hand: call fake at score >= t for each distinct score, and call nothing fake."""
    best = 0.0
    for t in [*np.unique(scores), np.inf]:
        right = ((scores >= t) == labels.astype(bool)).astype(float)
        best = max(best, float((right * weights).sum() / weights.sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_oracle_accuracy_is_the_best_threshold_on_the_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 60)
    scores = np.round(rng.random(60) * 0.6 + 0.4 * labels, 1 if seed % 2 else 3)  # ties on odd seeds
    inputs = MetricInputs(_records(scores, labels), "verdict")
    weights = np.vstack([np.ones(60), rng.integers(0, 3, 60).astype(float)])
    got = oracle_accuracy(inputs, weights)
    for row, value in zip(weights, got, strict=True):
        assert value == pytest.approx(_explicit(scores, labels, row))


def test_one_class_gives_no_value_and_the_metric_is_never_a_ranking_metric() -> None:
    inputs = MetricInputs(_records(np.array([0.2, 0.9]), np.array([1, 1])), "verdict")
    assert np.isnan(oracle_accuracy(inputs, np.ones((1, 2)))[0])
    assert metric_def("acc_oracle").ranked is False
    assert not lb.rankable("acc_oracle") and lb.rankable("acc")
    assert lb.headline_metric("demo", ["acc_oracle", "auc"]) == "auc"
