"""Calibration of p(fake): expected calibration error and Brier score.

Both are computed from the weighted counts of fakes and reals at each distinct p(fake)
(:meth:`harness.metrics.inputs.MetricInputs.roc_counts`), so point values, breakdowns and bootstrap
resamples cost a few matrix-vector products. A labelled record without a finite score (a failed or
missing sample) is given p = 0.5, as for the ROC metrics.
"""

from __future__ import annotations

import numpy as np

from spotfake.harness.metrics.definitions import ratio
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.types import FloatArray

N_BINS = 15
"""Equal-width bins of p(fake) over [0, 1]."""


def calibration_bins(scores: FloatArray) -> FloatArray:
    """The bin of each p(fake): ``min(floor(15 p), 14)`` after clipping to [0, 1] (p = 1 is in the last)."""
    return np.minimum((np.clip(scores, 0.0, 1.0) * N_BINS).astype(int), N_BINS - 1)


def expected_calibration_error(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: ece.

    Definition: expected calibration error of p(fake) with 15 equal-width bins over [0, 1] (the bin of p
        is ``min(floor(15 p), 14)``, so p = 1 falls in the last bin): ``sum_b |fakes_b - sum of p in b| / N``,
        i.e. the bin-size-weighted gap between the fraction of fakes and the mean p(fake) in each bin,
        over the N labelled samples (no score: p = 0.5). This is the calibration of the fake-probability
        itself (the reliability diagram plots the same bins), not of the top-label confidence. Only for
        models that give scores. Range [0, 1], **lower is better**.
    Citation: Naeini et al., "Obtaining Well Calibrated Probabilities Using Bayesian Binning", AAAI 2015;
        Guo et al., "On Calibration of Modern Neural Networks", ICML 2017 (15 bins).
    """
    fakes, reals = inputs.roc_counts(weights)
    scores = inputs.group_scores
    total = fakes + reals
    if scores.size == 0:
        return np.full(total.shape[0], np.nan)
    # groups are sorted by score, so each bin is a contiguous run of groups
    bins = calibration_bins(scores)
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    fakes_in_bin = np.add.reduceat(fakes, starts, axis=1)
    score_sum_in_bin = np.add.reduceat(total * scores, starts, axis=1)
    gap = np.abs(fakes_in_bin - score_sum_in_bin).sum(axis=1)
    return ratio(gap, total.sum(axis=1))


def brier_score(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: brier.

    Definition: mean squared difference between p(fake) and the label (1 fake, 0 real) over the
        labelled samples; a labelled sample without a score (failed, missing) gets p = 0.5. Only for
        models that give scores. Range [0, 1], **lower is better**; a constant 0.5 scores 0.25.
    Citation: Brier, "Verification of forecasts expressed in terms of probability", 1950.
    """
    fakes, reals = inputs.roc_counts(weights)
    scores = inputs.group_scores
    squared = fakes @ (1.0 - scores) ** 2 + reals @ scores**2
    return ratio(squared, (fakes + reals).sum(axis=1))
