"""Score metrics from the ROC: AUC, average precision, equal error rate and TPR at a fixed FPR.

All four are functions of the weighted counts of fakes and reals at each distinct p(fake), highest
first (:meth:`harness.metrics.inputs.MetricInputs.roc_counts`), vectorised over rows of weights: a row of
ones is the point estimate, a row of bootstrap draw counts one resample. Fake is the positive class.
A labelled record without a finite score (a failed or missing sample) is given p = 0.5, so failures
cost the model instead of vanishing. Unlabelled records take no part. Tied scores form one threshold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spotfake.harness.metrics.definitions import ratio
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.types import BoolArray, FloatArray


def roc_points(inputs: MetricInputs, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(fpr, tpr), each (b, G + 1), starting at (0, 0): one point per distinct score, highest first;
    computed once per ``weights`` object (EER and both TPR@FPR metrics share it)."""

    def compute() -> tuple[FloatArray, FloatArray]:
        tp, fp = inputs.cumulative_counts(weights)
        return ratio(fp, fp[:, -1:]), ratio(tp, tp[:, -1:])

    return inputs.for_weights("roc_points", weights, compute)


def auc(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: auc.

    Definition: area under the ROC curve of p(fake), fake positive: the probability that a random fake
        gets a higher score than a random real, ties counting one half (Mann-Whitney U / (fakes * reals)),
        equal to scikit-learn's ``roc_auc_score``. None when one class is absent or the model gives no
        scores. Range [0, 1], 0.5 = chance, higher is better.
    Citation: Hanley and McNeil, "The meaning and use of the area under a ROC curve", Radiology 1982.
    """
    fakes, reals = inputs.roc_counts(weights)
    tp, fp = inputs.cumulative_counts(weights)
    total_reals = fp[:, -1:]
    reals_below = total_reals - fp[:, 1:]
    wins = (fakes * (reals_below + 0.5 * reals)).sum(axis=1)
    return ratio(wins, tp[:, -1] * total_reals[:, 0])


def average_precision(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: ap.

    Definition: average precision of p(fake), fake positive, as scikit-learn's
        ``average_precision_score``: ``sum_k (R_k - R_(k-1)) P_k`` over the distinct scores from the
        highest down, with P_k and R_k the precision and recall of calling "fake" every sample scored at
        least the k-th score (no interpolation). None without fakes, without reals (scikit-learn gives
        a constant 1.0 on fakes alone, which ranks nothing) or without scores. Range [0, 1], higher is
        better; a random ranking scores about the share of fakes.
    Citation: scikit-learn ``sklearn.metrics.average_precision_score``; used by CNNSpot (Wang et al., CVPR
        2020) and UnivFD (Ojha et al., CVPR 2023) for cross-generator tables.
    """
    fakes, _ = inputs.roc_counts(weights)
    tp, fp = (x[:, 1:] for x in inputs.cumulative_counts(weights))
    precision = np.zeros_like(tp)
    np.divide(tp, tp + fp, out=precision, where=(tp + fp) > 0)
    total = tp[:, -1] if tp.shape[1] else np.zeros(tp.shape[0])
    reals = fp[:, -1] if fp.shape[1] else np.zeros(fp.shape[0])
    return ratio((fakes * precision).sum(axis=1), np.where(reals > 0, total, 0.0))


def equal_error_rate(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: eer.

    Definition: the error rate where the false-positive rate (reals called fake) equals the
        false-negative rate (fakes missed) on the ROC. The ROC's points (one per distinct score, from
        (0, 0)) are joined by straight lines; on the first segment where FPR - FNR changes from negative
        to >= 0 the crossing is interpolated linearly, and EER is the FPR (= FNR) there. None when a
        class is absent or the model gives no scores. Range [0, 1], **lower is better**.
    Citation: the usual biometric / deepfake-detection EER, e.g. DeepfakeBench (Yan et al., NeurIPS 2023).
    """
    fpr, tpr = roc_points(inputs, weights)
    out = np.full(fpr.shape[0], np.nan)
    ok = _both_classes(inputs, weights)
    if not ok.any():
        return out
    fpr, tpr = fpr[ok], tpr[ok]
    gap = fpr + tpr - 1.0  # FPR - FNR, non-decreasing along the curve
    k = np.argmax(gap >= 0.0, axis=1)
    rows = np.arange(gap.shape[0])
    prev = np.maximum(k - 1, 0)
    d0, d1 = gap[rows, prev], gap[rows, k]
    t = np.where(d1 > d0, -d0 / np.where(d1 > d0, d1 - d0, 1.0), 0.0)
    t = np.where(k == 0, 1.0, np.clip(t, 0.0, 1.0))
    out[ok] = fpr[rows, prev] + t * (fpr[rows, k] - fpr[rows, prev])
    return out


def _both_classes(inputs: MetricInputs, weights: FloatArray) -> BoolArray:
    """Rows of ``weights`` that weigh at least one fake and one real (the ROC is defined)."""
    tp, fp = inputs.cumulative_counts(weights)
    return (tp[:, -1] > 0) & (fp[:, -1] > 0)


def tpr_at_fpr(max_fpr: float) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    """A metric function: the highest TPR among the ROC's thresholds whose FPR is at most ``max_fpr``."""

    def metric(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        fpr, tpr = roc_points(inputs, weights)
        # both rates only grow along the curve: the best allowed point is the last one with FPR <= x
        last = (fpr <= max_fpr + 1e-12).sum(axis=1) - 1
        best = tpr[np.arange(tpr.shape[0]), np.maximum(last, 0)]
        return np.where(_both_classes(inputs, weights), best, np.nan)

    percent = f"{100 * max_fpr:g}"
    metric.__doc__ = f"""Metric card: tpr_at_fpr{percent}.

    Definition: the true-positive rate (fakes caught) at the operating point with a false-positive rate
        (reals flagged) of at most {percent}%: the highest TPR over the ROC's thresholds (distinct scores)
        whose FPR <= {max_fpr:g}, without interpolation, so the figure is one a real threshold reaches.
        None when a class is absent or the model gives no scores. Range [0, 1], higher is better.
    Citation: TPR at low FPR as reported for deepfake and synthetic-image detectors (e.g. Corvi et al.,
        ICASSP 2023); computed from the same points as scikit-learn's ``roc_curve``.
    """
    return metric
