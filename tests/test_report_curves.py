"""Detector curves against independent computations: scikit-learn for ROC/PR, hand counts for the rest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import auc, average_precision_score, roc_auc_score

from spotfake.harness.report.curves import (
    generator_bars,
    operating_point,
    pr_points,
    reliability_bins,
    robustness_points,
    roc_points,
    score_histogram,
    sweep_axis,
)

LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.8, 0.9, 0.55, 0.2, 1.0, 0.0])


def test_roc_area_equals_scikit_learn_auc_with_ties() -> None:
    roc = roc_points(LABELS, SCORES)
    assert roc is not None
    assert auc(roc.x, roc.y) == pytest.approx(roc_auc_score(LABELS, SCORES))  # trapezoids
    assert roc.x[0] == 0 and roc.y[-1] == 1 and roc.x[-1] == 1


def test_pr_step_area_equals_average_precision() -> None:
    pr = pr_points(LABELS, SCORES)
    assert pr is not None
    recall, precision = pr.x, pr.y
    ap = float(np.sum((recall[:-1] - recall[1:]) * precision[:-1]))
    assert ap == pytest.approx(average_precision_score(LABELS, SCORES))


@pytest.mark.parametrize("labels", [np.zeros(4, int), np.ones(4, int), np.zeros(0, int)])
def test_curves_need_both_classes(labels: np.ndarray) -> None:
    scores = np.linspace(0, 1, labels.size)
    assert roc_points(labels, scores) is None
    assert pr_points(labels, scores) is None


def test_operating_point_counts_by_hand() -> None:
    op = operating_point(LABELS, SCORES, 0.5)
    assert op is not None
    # flagged (>= 0.5): 0.8 real, 0.8 / 0.9 / 0.55 / 1.0 fake -> 4 of 5 fakes caught, 1 of 5 reals flagged
    assert (op.tpr, op.fpr, op.precision) == (0.8, 0.2, 0.8)
    assert (op.acc, op.acc_real, op.acc_fake) == (0.8, 0.8, 0.8)
    everything = operating_point(LABELS, SCORES, 0.0)
    assert everything is not None and everything.acc_real == 0.0 and everything.acc_fake == 1.0
    nothing = operating_point(LABELS, SCORES, 1.01)
    assert nothing is not None and nothing.precision is None and nothing.acc == 0.5
    assert operating_point(np.zeros(0, int), np.zeros(0), 0.5) is None


def test_reliability_bins_are_equal_width_with_a_closed_last_bin() -> None:
    bins = reliability_bins(LABELS, SCORES, n_bins=5)
    assert [b.low for b in bins] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert [b.count for b in bins] == [2, 2, 2, 0, 4]  # 0.2 opens bin 1; 0.8 and 1.0 fall in the last
    last = bins[-1]
    assert last.mean_score == pytest.approx((0.8 + 0.8 + 0.9 + 1.0) / 4)
    assert last.fake_rate == pytest.approx(3 / 4)
    assert bins[3].mean_score is None and bins[3].fake_rate is None
    assert sum(b.count for b in reliability_bins(LABELS, np.array([-1, 2.0] * 5), 15)) == 10


def test_score_histogram_splits_real_and_fake() -> None:
    edges, real, fake = score_histogram(LABELS, SCORES, n_bins=2)
    assert list(edges) == [0, 0.5, 1]
    assert (list(real), list(fake)) == ([4, 1], [1, 4])


def results(
    model: str, spec: str | None, value: float | None, steps: list[dict[str, Any]] | None = None
) -> Any:
    out: dict[str, Any] = {
        "model": {"name": model},
        "metrics": {"acc": value},
        "ci": {"acc": [None if value is None else value - 0.1, None if value is None else value + 0.1]},
    }
    if spec is not None:
        out["perturbation"] = {"spec": spec, "slug": spec, "steps": steps or []}
    return out


def test_robustness_points_sort_by_strength_and_give_presets_and_chains_an_axis_each() -> None:
    runs = [
        results("a", "jpeg:50", 0.6, [{"name": "jpeg", "value": 50.0}]),
        results("a", None, 0.9),
        results("a", "jpeg:95", 0.8, [{"name": "jpeg", "value": 95.0}]),
        results(
            "a",
            "resize:0.5+jpeg:75",
            0.7,
            [{"name": "resize", "value": 0.5}, {"name": "jpeg", "value": 75.0}],
        ),
        results("a", "social", 0.5, [{"name": "social", "value": None}]),
    ]
    points = robustness_points(runs, "acc")
    assert [(p.perturbation, p.strength, p.value) for p in points] == [
        ("clean", None, 0.9),
        ("jpeg", 50.0, 0.6),
        ("jpeg", 95.0, 0.8),
        ("resize:0.5+jpeg:75", None, 0.7),
        ("social", None, 0.5),
    ]
    assert points[1].low == pytest.approx(0.5) and points[1].high == pytest.approx(0.7)
    assert sweep_axis(runs[3]) == ("resize:0.5+jpeg:75", None)  # a chain is an axis of one point
    assert sweep_axis(runs[4]) == ("social", None)


def test_generator_bars_tell_seen_from_held_out_only_when_the_task_says() -> None:
    res: Any = {
        "breakdowns": {
            "generator": {
                "real": {"n": 240, "acc": 0.99, "acc_real": 0.99, "acc_fake": None},
                "dcgan": {"n": 80, "acc": 1.0, "acc_real": None, "acc_fake": 1.0},
                "ddpm": {"n": 80, "acc": 0.0, "acc_real": None, "acc_fake": 0.0},
            }
        }
    }
    bars = {b.group: b for b in generator_bars(res, "acc", "generator", {"generator": ["ddpm"]})}
    assert {g: b.status for g, b in bars.items()} == {"real": "real", "dcgan": "seen", "ddpm": "held-out"}
    assert bars["ddpm"].value == 0.0 and bars["dcgan"].n == 80
    unknown = {b.group: b.status for b in generator_bars(res, "acc", "generator", {})}
    assert unknown == {"real": "real", "dcgan": None, "ddpm": None}
    assert generator_bars(res, "acc", "source", {}) == []


def test_sweeps_of_one_model_with_other_settings_are_separate_lines() -> None:
    clean = results("random", None, 0.5)
    other_seed = results("random", None, 0.48)
    other_seed["model"]["args"] = {"seed": "1"}
    other_split = results("random", "jpeg:50", 0.47, [{"name": "jpeg", "value": 50.0}])
    other_split["task"] = {"name": "demo", "version": "1", "args": {"split": "train"}}
    labels = sorted({p.model for p in robustness_points([clean, other_seed, other_split], "acc")})
    assert labels == ["random", "random@seed=1", "random@split=train"]
