"""Detector metrics (AP, acc_real/acc_fake, EER, TPR@FPR, ECE, Brier) against independent computations,
edge cases, bootstrap intervals, one-group-vs-all-reals breakdowns and verdict-only models."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.resamples import explicit_resample_draws
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from spotfake.harness.metrics import metric_def, summarize
from spotfake.harness.types import Record

SCORE_METRICS = ["auc", "ap", "eer", "tpr_at_fpr5", "tpr_at_fpr1", "ece", "brier"]
DETECTOR = ["acc", "acc_real", "acc_fake", *SCORE_METRICS]


def records_from(
    labels: list[str], scores: list[float | None], verdicts: list[str | None] | None = None
) -> list[Record]:
    out = []
    for i, (label, score) in enumerate(zip(labels, scores, strict=True)):
        verdict = (
            verdicts[i] if verdicts else (None if score is None else ("fake" if score >= 0.5 else "real"))
        )
        out.append(Record(id=f"s{i}", label=label, score=score, verdict=verdict))  # type: ignore[arg-type]
    return out


def random_records(n: int, seed: int, ties: bool = False) -> list[Record]:
    rng = np.random.default_rng(seed)
    labels = ["fake" if x else "real" for x in rng.random(n) < 0.45]
    scores: list[float | None] = []
    for label in labels:
        s = float(np.clip(rng.normal(0.62 if label == "fake" else 0.4, 0.2), 0, 1))
        scores.append(round(s, 1) if ties else s)
    scores[3] = None  # a failed sample: p = 0.5
    return records_from(labels, scores)


# ---- independent reference implementations (loops and scikit-learn, not the module under test) ----


def ref_eer(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
    fnr = 1 - tpr
    for k in range(1, len(fpr)):
        d0, d1 = fpr[k - 1] - fnr[k - 1], fpr[k] - fnr[k]
        if d1 >= 0 > d0:
            t = -d0 / (d1 - d0)
            return float(fpr[k - 1] + t * (fpr[k] - fpr[k - 1]))
    raise AssertionError("no crossing")


def ref_tpr_at(y: np.ndarray, p: np.ndarray, x: float) -> float:
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
    return float(max(t for f, t in zip(fpr, tpr, strict=True) if f <= x + 1e-12))


def ref_ece(y: np.ndarray, p: np.ndarray) -> float:
    total = 0.0
    for b in range(15):
        lo, hi = b / 15, (b + 1) / 15
        inside = (p >= lo) & ((p < hi) if b < 14 else (p <= 1.0))
        if inside.any():
            total += inside.sum() / len(p) * abs(y[inside].mean() - p[inside].mean())
    return total


def reference_values(records: list[Record]) -> dict[str, float]:
    labelled = [r for r in records if r.label in ("real", "fake")]
    y = np.array([r.label == "fake" for r in labelled], dtype=int)
    p = np.array([0.5 if r.score is None else r.score for r in labelled])
    reals = [r for r in labelled if r.label == "real"]
    fakes = [r for r in labelled if r.label == "fake"]
    return {
        "acc": np.mean([r.verdict == r.label for r in labelled]),
        "acc_real": np.mean([r.verdict == "real" for r in reals]),
        "acc_fake": np.mean([r.verdict == "fake" for r in fakes]),
        "auc": roc_auc_score(y, p),
        "ap": average_precision_score(y, p),
        "eer": ref_eer(y, p),
        "tpr_at_fpr5": ref_tpr_at(y, p, 0.05),
        "tpr_at_fpr1": ref_tpr_at(y, p, 0.01),
        "ece": ref_ece(y, p),
        "brier": brier_score_loss(y, p),
    }


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_values_equal_independent_computations(seed: int, ties: bool) -> None:
    records = random_records(240, seed, ties=ties)
    s = summarize(records, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=0)
    for name, expected in reference_values(records).items():
        assert s.metrics[name] == pytest.approx(expected, abs=1e-12), name


def test_bootstrap_intervals_equal_explicit_resamples() -> None:
    records = random_records(60, seed=5, ties=True)
    s = summarize(records, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=40, seed=3)
    draws = explicit_resample_draws(records, DETECTOR, 40, 3, reference_values)
    for name in DETECTOR:
        assert s.ci[name] == pytest.approx(list(np.percentile(draws[name], [2.5, 97.5])), abs=1e-9), name


def test_edge_cases_one_class_equal_scores_and_perfect_separation() -> None:
    one_class = records_from(["fake"] * 5, [0.9, 0.8, 0.7, 0.6, 0.1])
    s = summarize(one_class, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=0)
    # AP too: on fakes alone scikit-learn's constant 1.0 ranks nothing (a fake-only set's mean would gain it)
    for name in ("auc", "ap", "eer", "tpr_at_fpr5", "tpr_at_fpr1", "acc_real"):
        assert s.metrics[name] is None, name
    assert s.metrics["acc_fake"] == pytest.approx(0.8) and "ap" in s.null_reasons
    assert "acc_real" in s.null_reasons and "undefined" in s.null_reasons["acc_real"]

    flat = records_from(["real", "fake", "real", "fake"], [0.3] * 4)
    s = summarize(flat, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=0)
    assert s.metrics["auc"] == pytest.approx(0.5) and s.metrics["ap"] == pytest.approx(0.5)
    assert s.metrics["eer"] == pytest.approx(0.5) and s.metrics["tpr_at_fpr1"] == pytest.approx(0.0)
    assert s.metrics["brier"] == pytest.approx(brier_score_loss([0, 1, 0, 1], [0.3] * 4))

    perfect = records_from(["real", "real", "fake", "fake"], [0.0, 0.2, 0.8, 1.0])
    s = summarize(perfect, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=0)
    assert s.metrics["auc"] == 1.0 and s.metrics["ap"] == 1.0 and s.metrics["eer"] == 0.0
    assert s.metrics["tpr_at_fpr1"] == 1.0 and s.metrics["brier"] == pytest.approx(0.02)
    assert s.metrics["ece"] == pytest.approx(ref_ece(np.array([0, 0, 1, 1]), np.array([0.0, 0.2, 0.8, 1.0])))


def test_missing_scores_count_as_a_coin_not_as_nothing() -> None:
    records = records_from(["real", "fake", "fake"], [0.1, 0.9, None], verdicts=["real", "fake", None])
    s = summarize(records, answer_kind="verdict", metrics=SCORE_METRICS, n_bootstrap=0)
    assert s.metrics["auc"] == pytest.approx(roc_auc_score([0, 1, 1], [0.1, 0.9, 0.5]))
    assert s.metrics["brier"] == pytest.approx((0.01 + 0.01 + 0.25) / 3)


def test_verdict_only_models_get_no_score_metric_and_a_reason() -> None:
    records = records_from(["real", "fake", "fake"], [None, None, None], verdicts=["real", "fake", "real"])
    s = summarize(records, answer_kind="verdict", metrics=DETECTOR, n_bootstrap=10)
    for name in SCORE_METRICS:
        assert s.metrics[name] is None and name not in s.ci
        assert s.null_reasons[name] == "the model gives verdicts only, no p(fake) score"
    assert s.metrics["acc_fake"] == pytest.approx(0.5) and s.metrics["acc_real"] == 1.0


def test_score_breakdowns_compare_a_fake_only_group_with_all_reals() -> None:
    records = random_records(200, seed=9)
    for i, r in enumerate(records):
        if r.label == "fake":
            r.metadata = {"generator": "gan" if i % 2 else "diffusion"}
    s = summarize(records, answer_kind="verdict", metrics=DETECTOR, breakdowns=["generator"], n_bootstrap=0)
    reals = [r for r in records if r.label == "real"]
    for gen in ("gan", "diffusion"):
        group = [r for r in records if r.metadata.get("generator") == gen]
        expected = reference_values(group + reals)
        got = s.breakdowns["generator"][gen]
        for name in ("auc", "ap", "eer", "tpr_at_fpr5", "ece", "brier"):
            assert got[name] == pytest.approx(expected[name], abs=1e-12), (gen, name)
        assert got["acc_fake"] == pytest.approx(np.mean([r.verdict == "fake" for r in group]))
        assert got["acc_real"] is None  # accuracy metrics stay within the group
        assert got["n"] == len(group)


def test_explanation_metrics_only_for_models_that_explain() -> None:
    records = [
        Record(id="a", label="fake", verdict="fake", response="This is a fake image.", rouge_l=0.2, css=0.5),
        Record(id="b", label="real", verdict="fake", response="This is a fake image.", rouge_l=0.1, css=0.4),
    ]
    metrics = ["acc", "rouge_l", "css", "rouge_l_gated", "css_gated"]
    expert = summarize(records, answer_kind="verdict", metrics=metrics, n_bootstrap=10, explains=False)
    assert all(expert.metrics[m] is None for m in metrics[1:])
    assert "does not explain" in expert.null_reasons["css"]
    assert expert.verdict_only_floor == pytest.approx(
        {"rouge_l": 0.15, "css": 0.45, "rouge_l_gated": 0.1, "css_gated": 0.25}
    )
    lmm = summarize(records, answer_kind="verdict", metrics=metrics, n_bootstrap=10)
    assert lmm.metrics["css"] == pytest.approx(0.45) and lmm.metrics["css_gated"] == pytest.approx(0.25)
    assert lmm.metrics["rouge_l_gated"] == pytest.approx(0.1) and lmm.verdict_only_floor == {}


def test_registry_directions_and_labels() -> None:
    assert not metric_def("eer").higher_is_better and not metric_def("brier").higher_is_better
    assert metric_def("ap").higher_is_better and metric_def("ap").needs == "scores"
    assert metric_def("tpr_at_fpr1").label == "TPR@1%FPR"
