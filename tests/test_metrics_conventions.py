"""Published EER and TPR@FPR conventions (eer_nearest, eer_fvc, tpr_at_fpr*_interp) against the tools'
own formulas written out here (scikit-learn's roc_curve, np.interp, pyeer's rule as loops), on random
scores with and without ties, under bootstrap weights, and on hand-made curves where the rules differ."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.resamples import explicit_resample_draws
from sklearn.metrics import roc_curve

from spotfake.harness.metrics import metric_def, summarize
from spotfake.harness.metrics.conventions import sklearn_kept_points
from spotfake.harness.types import Record

CONVENTIONS = ["eer_nearest", "eer_fvc", "tpr_at_fpr5_interp", "tpr_at_fpr1_interp"]
DEFAULTS = ["eer", "tpr_at_fpr5", "tpr_at_fpr1"]


def records_from(labels: list[str], scores: list[float | None]) -> list[Record]:
    return [
        Record(id=f"s{i}", label=label, score=score, verdict=None)  # type: ignore[arg-type]
        for i, (label, score) in enumerate(zip(labels, scores, strict=True))
    ]


def random_records(n: int, seed: int, decimals: int | None) -> list[Record]:
    rng = np.random.default_rng(seed)
    labels = ["fake" if x else "real" for x in rng.random(n) < 0.4]
    scores: list[float | None] = []
    for label in labels:
        s = float(np.clip(rng.normal(0.6 if label == "fake" else 0.42, 0.18), 0, 1))
        scores.append(s if decimals is None else round(s, decimals))
    scores[1] = None  # a failed sample: p = 0.5
    return records_from(labels, scores)


# ---- the tools' rules, written out (scikit-learn, numpy and loops; not the module under test) ----


def deepfakebench_eer(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p, pos_label=1)
    fnr = 1 - tpr
    return float(fpr[np.nanargmin(np.absolute(fnr - fpr))])


def pyeer_eer(y: np.ndarray, p: np.ndarray) -> float:
    """pyeer's calculate_roc + get_eer_values: genuine = fake, impostor = real, accept s >= t."""
    genuine, impostor = p[y == 1], p[y == 0]
    thresholds = np.unique(p)  # ascending
    fmr = np.array([(impostor >= t).sum() / impostor.size for t in thresholds])
    fnmr = np.array([(genuine < t).sum() / genuine.size for t in thresholds])
    diff = fmr - fnmr
    if not (diff <= 0).any():  # pyeer 0.5.6 returns 1 here; spotfake adds the threshold above every score
        fmr, fnmr = np.r_[fmr, 0.0], np.r_[fnmr, 1.0]
        diff = fmr - fnmr
    t2 = int(np.where(diff <= 0)[0][0])
    t1 = t2 - 1 if diff[t2] != 0 and t2 != 0 else t2
    if fmr[t1] + fnmr[t1] <= fmr[t2] + fnmr[t2]:
        return float((fnmr[t1] + fmr[t1]) / 2)
    return float((fnmr[t2] + fmr[t2]) / 2)


def corvi_pd_at_far(y: np.ndarray, p: np.ndarray, x: float) -> float:
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.interp(x, fpr, tpr))


def reference_values(records: list[Record]) -> dict[str, float]:
    labelled = [r for r in records if r.label in ("real", "fake")]
    y = np.array([r.label == "fake" for r in labelled], dtype=int)
    p = np.array([0.5 if r.score is None else r.score for r in labelled])
    return {
        "eer_nearest": deepfakebench_eer(y, p),
        "eer_fvc": pyeer_eer(y, p),
        "tpr_at_fpr5_interp": corvi_pd_at_far(y, p, 0.05),
        "tpr_at_fpr1_interp": corvi_pd_at_far(y, p, 0.01),
    }


@pytest.mark.parametrize("decimals", [None, 2, 1])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_point_values_equal_the_tools_formulas(seed: int, decimals: int | None) -> None:
    records = random_records(300, seed, decimals)
    s = summarize(records, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=0)
    for name, expected in reference_values(records).items():
        assert s.metrics[name] == pytest.approx(expected, abs=1e-12), (name, seed, decimals)


def test_bootstrap_intervals_equal_the_tools_on_explicit_resamples() -> None:
    records = random_records(70, seed=11, decimals=1)
    s = summarize(records, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=50, seed=4)
    draws = explicit_resample_draws(records, CONVENTIONS, 50, 4, reference_values)
    for name in CONVENTIONS:
        assert s.ci[name] == pytest.approx(list(np.percentile(draws[name], [2.5, 97.5])), abs=1e-9), name


def test_kept_points_are_scikit_learns_thresholds_with_repeats_and_gaps() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        g = int(rng.integers(1, 12))
        fakes = rng.integers(0, 3, size=(1, g)).astype(float)
        reals = rng.integers(0, 3, size=(1, g)).astype(float)
        if fakes.sum() == 0 or reals.sum() == 0:
            continue
        scores = -np.arange(g, dtype=float)  # highest first
        y = np.repeat(np.r_[np.ones(g), np.zeros(g)], np.r_[fakes[0], reals[0]].astype(int))
        p = np.repeat(np.r_[scores, scores], np.r_[fakes[0], reals[0]].astype(int))
        _, _, thresholds = roc_curve(y, p)
        kept = sklearn_kept_points(fakes, reals)[0]
        assert sorted(scores[kept[1:]]) == sorted(thresholds[1:].tolist())


def test_the_rules_differ_on_tied_scores_by_the_stated_amounts() -> None:
    # 4 fakes and 4 reals on three score levels: the ROC points are (0,0) (0,0.5) (0.5,0.75) (1,1); the
    # last two levels take equal steps, so scikit-learn drops (0.5, 0.75), the point nearest FNR = FPR
    labels = ["fake", "fake", "fake", "real", "real", "fake", "real", "real"]
    scores = [0.9, 0.9, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1]
    s = summarize(records_from(labels, scores), answer_kind="verdict", metrics=CONVENTIONS + DEFAULTS)
    m = s.metrics
    assert m["eer"] == pytest.approx(1 / 3)  # FPR = FNR on the segment from (0, 0.5) to (0.5, 0.75)
    assert m["eer_nearest"] == 0.0  # of the kept points, (0, 0.5) is nearest: |FNR - FPR| = 0.5
    assert m["eer_fvc"] == pytest.approx(0.25)  # (0 + 0.5) / 2 at (0, 0.5), the smaller FPR + FNR
    assert m["tpr_at_fpr5"] == 0.5 and m["tpr_at_fpr5_interp"] == pytest.approx(0.525)
    assert m["tpr_at_fpr1"] == 0.5 and m["tpr_at_fpr1_interp"] == pytest.approx(0.505)
    y = np.array([x == "fake" for x in labels], dtype=int)
    assert deepfakebench_eer(y, np.array(scores)) == 0.0 and pyeer_eer(y, np.array(scores)) == 0.25


def test_edge_cases_one_class_verdict_only_and_perfect_separation() -> None:
    one_class = records_from(["fake"] * 4, [0.9, 0.8, 0.2, 0.1])
    s = summarize(one_class, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=10)
    assert all(s.metrics[m] is None for m in CONVENTIONS) and s.ci == {}
    verdicts = records_from(["fake", "real"], [None, None])
    s = summarize(verdicts, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=0)
    assert s.null_reasons["eer_fvc"] == "the model gives verdicts only, no p(fake) score"
    perfect = records_from(["real", "real", "fake", "fake"], [0.1, 0.2, 0.8, 0.9])
    s = summarize(perfect, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=0)
    assert s.metrics == {**s.metrics, "eer_nearest": 0.0, "eer_fvc": 0.0, "tpr_at_fpr1_interp": 1.0}
    flat = records_from(["real", "fake", "real", "fake"], [0.3] * 4)
    s = summarize(flat, answer_kind="verdict", metrics=CONVENTIONS, n_bootstrap=0)
    assert s.metrics["eer_nearest"] == 0.0 and s.metrics["eer_fvc"] == pytest.approx(0.5)
    assert s.metrics["tpr_at_fpr5_interp"] == pytest.approx(0.05)


def test_registered_with_directions_labels_and_cards() -> None:
    for name in CONVENTIONS:
        metric = metric_def(name)
        assert metric.needs == "scores" and metric.card and metric.evaluate.__doc__
        assert f"Metric card: {name}" in metric.evaluate.__doc__
    assert not metric_def("eer_nearest").higher_is_better and not metric_def("eer_fvc").higher_is_better
    assert metric_def("tpr_at_fpr5_interp").higher_is_better
    assert metric_def("tpr_at_fpr1_interp").label == "TPR@1%FPR (interp.)"
