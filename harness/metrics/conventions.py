"""Other tools' conventions for EER and TPR at a fixed FPR, as named metrics beside spotfake's defaults.

spotfake's ``eer`` interpolates the crossing of FPR and FNR and its ``tpr_at_fpr*`` take the best
threshold actually reached (:mod:`harness.metrics.ranking`). Published tables use other rules, which
differ most on tied or few distinct scores, so each one that a paper's code uses is a metric of its own:

- ``eer_nearest``: DeepfakeBench's rule (``training/metrics/utils.py``): the FPR of the point of
  scikit-learn's ``roc_curve`` (``drop_intermediate=True``) nearest to FNR = FPR;
- ``eer_fvc``: pyeer's rule (``get_eer_values``, after Maio et al., FVC2000): the mean of FPR and FNR at
  the better of the two thresholds that bracket the crossing;
- ``tpr_at_fpr5_interp``, ``tpr_at_fpr1_interp``: Corvi et al.'s ``pd_at_far`` (DMimageDetection
  ``dmetrics.py``): the ROC interpolated linearly at the FPR, ``np.interp(x, fpr, tpr)``.

All are functions of the ROC points of :func:`harness.metrics.ranking.roc_points` (one per distinct
score, from (0, 0)), vectorised over rows of weights, so intervals and breakdowns come from the registry
like every metric's. A row of bootstrap counts gives what the tool gives on the resampled scores: a
score that a resample does not draw is no threshold of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.ranking import roc_points
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.types import BoolArray, FloatArray


def _both_classes(inputs: MetricInputs, weights: FloatArray) -> BoolArray:
    tp, fp = inputs.cumulative_counts(weights)
    return (tp[:, -1] > 0) & (fp[:, -1] > 0)


def sklearn_kept_points(fakes: FloatArray, reals: FloatArray) -> BoolArray:
    """(b, G + 1): the ROC points that scikit-learn's ``roc_curve(drop_intermediate=True)`` returns.

    ``fakes`` and ``reals`` (b, G) weigh each distinct score, highest first; point 0 is (0, 0) and point
    g + 1 follows score g. A score without weight is no threshold. Of the others, the first and the last
    are kept, and one in between only when its (fakes, reals) step differs from the next one's (a point
    in the middle of a straight run of equal steps is dropped), as ``np.diff(fps, 2)`` decides there.
    """
    b, g = fakes.shape
    present = (fakes + reals) > 0
    index = np.where(present, np.arange(g), g)
    following = np.minimum.accumulate(index[:, ::-1], axis=1)[:, ::-1]
    nxt = np.concatenate([following[:, 1:], np.full((b, 1), g)], axis=1)  # next score with weight
    padded_f = np.concatenate([fakes, np.full((b, 1), np.nan)], axis=1)
    padded_r = np.concatenate([reals, np.full((b, 1), np.nan)], axis=1)
    step_differs = (np.take_along_axis(padded_f, nxt, axis=1) != fakes) | (
        np.take_along_axis(padded_r, nxt, axis=1) != reals
    )
    first = present & (np.cumsum(present, axis=1) == 1)
    kept = present & (first | (nxt == g) | step_differs)
    return np.concatenate([np.ones((b, 1), dtype=bool), kept], axis=1)


def eer_nearest(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: eer_nearest.

    Definition: the equal error rate read at the nearest ROC point instead of interpolated: among the
        points scikit-learn's ``roc_curve`` returns (``drop_intermediate=True``: collinear points of a
        straight run dropped), the first one with the smallest ``|FNR - FPR|``; its FPR. On tied or few
        distinct scores the nearest point can sit far from the crossing (``eer`` interpolates it).
        None when a class is absent or the model gives no scores. Range [0, 1], **lower is better**.
    Citation: DeepfakeBench (Yan et al., NeurIPS 2023), ``training/metrics/utils.py``:
        ``fpr[np.nanargmin(np.absolute(fnr - fpr))]``.
    """
    fpr, tpr = roc_points(inputs, weights)
    fakes, reals = inputs.roc_counts(weights)
    out = np.full(fpr.shape[0], np.nan)
    ok = _both_classes(inputs, weights)
    if not ok.any():
        return out
    kept = sklearn_kept_points(fakes[ok], reals[ok])
    fpr, tpr = fpr[ok], tpr[ok]
    distance = np.where(kept, np.absolute((1.0 - tpr) - fpr), np.inf)
    best = np.argmin(distance, axis=1)  # the first of equal distances, as np.nanargmin
    out[ok] = fpr[np.arange(fpr.shape[0]), best]
    return out


def eer_fvc(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: eer_fvc.

    Definition: the FVC2000 equal error rate as pyeer computes it (``get_eer_values``): of the two
        thresholds (distinct scores) next to the crossing, the higher one with FPR <= FNR (t2) and the
        next lower one (t1, unless FPR = FNR at t2), take the one with the smaller FPR + FNR (t1 on a
        tie), and report (FPR + FNR) / 2 there (equal to pyeer 0.5.6's on 180 random score sets, tied
        and untied). Where even the highest score flags a larger share of reals than of fakes it misses
        (e.g. every score equal), pyeer 0.5.6 returns 1 and older versions fail; here t2 is then the
        threshold above every score (FPR 0, FNR 1), so equal scores give 0.5.
        None when a class is absent or the model gives no scores. Range [0, 1], **lower is better**.
    Citation: Maio, Maltoni, Cappelli, Wayman and Jain, "FVC2000: fingerprint verification
        competition", IEEE TPAMI 2002; pyeer (``pyeer/eer_stats.py``, ``get_eer_values``).
    """
    fpr, tpr = roc_points(inputs, weights)
    out = np.full(fpr.shape[0], np.nan)
    ok = _both_classes(inputs, weights)
    if not ok.any():
        return out
    fpr, fnr = fpr[ok], 1.0 - tpr[ok]
    rows = np.arange(fpr.shape[0])
    low = np.argmax(fpr - fnr > 0.0, axis=1)  # t1: the first point past the crossing (>= 1)
    high = low - 1  # t2: the same rates as the last threshold with FPR <= FNR
    exact = (fpr[rows, high] - fnr[rows, high]) == 0.0
    low = np.where(exact, high, low)
    sum_low = fpr[rows, low] + fnr[rows, low]
    sum_high = fpr[rows, high] + fnr[rows, high]
    chosen = np.where(sum_low <= sum_high, low, high)
    out[ok] = (fnr[rows, chosen] + fpr[rows, chosen]) / 2.0
    return out


def tpr_at_fpr_interp(max_fpr: float) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    """A metric function: the ROC interpolated linearly at FPR = ``max_fpr`` (``np.interp``)."""

    def metric(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        fpr, tpr = roc_points(inputs, weights)
        rows = np.arange(fpr.shape[0])
        left = (fpr <= max_fpr).sum(axis=1) - 1  # the last point at or left of max_fpr (np.interp's)
        right = np.minimum(left + 1, fpr.shape[1] - 1)
        left = np.maximum(left, 0)
        x0, x1 = fpr[rows, left], fpr[rows, right]
        y0, y1 = tpr[rows, left], tpr[rows, right]
        width = np.where(x1 > x0, x1 - x0, 1.0)
        slope = np.where(x1 > x0, (y1 - y0) / width, 0.0)
        value = slope * (max_fpr - x0) + y0
        return np.where(_both_classes(inputs, weights), value, np.nan)

    percent = f"{100 * max_fpr:g}"
    metric.__doc__ = f"""Metric card: tpr_at_fpr{percent}_interp.

    Definition: the true-positive rate (fakes caught) on the ROC interpolated linearly at a
        false-positive rate of exactly {percent}%: ``np.interp({max_fpr:g}, fpr, tpr)`` over the ROC points
        (one per distinct score, from (0, 0)); at an FPR that a vertical step of the curve reaches, the
        top of the step. A rate between two thresholds, not one a threshold reaches (``tpr_at_fpr{percent}``
        is). None when a class is absent or the model gives no scores. Range [0, 1], higher is better.
    Citation: Corvi et al., ICASSP 2023 (github.com/grip-unina/DMimageDetection, ``dmetrics.py``,
        ``pd_at_far``).
    """
    return metric


def convention_metrics() -> list[MetricDef]:
    """The published EER and TPR@FPR conventions, in table order."""
    return [
        MetricDef(
            "eer_nearest",
            "EER (nearest)",
            eer_nearest,
            higher_is_better=False,
            needs="scores",
            card="EER at the ROC point nearest FNR = FPR (DeepfakeBench)",
        ),
        MetricDef(
            "eer_fvc",
            "EER (FVC)",
            eer_fvc,
            higher_is_better=False,
            needs="scores",
            card="EER as (FPR + FNR) / 2 at the better bracketing threshold (FVC2000, pyeer)",
        ),
        MetricDef(
            "tpr_at_fpr5_interp",
            "TPR@5%FPR (interp.)",
            tpr_at_fpr_interp(0.05),
            needs="scores",
            card="TPR on the ROC interpolated at 5% FPR (Corvi et al.)",
        ),
        MetricDef(
            "tpr_at_fpr1_interp",
            "TPR@1%FPR (interp.)",
            tpr_at_fpr_interp(0.01),
            needs="scores",
            card="TPR on the ROC interpolated at 1% FPR (Corvi et al.)",
        ),
    ]
