"""``acc_calibrated``: the accuracy of the p(fake) scores at a threshold calibrated on a validation split.

``spotfake run --threshold calibrate=SPLIT`` fits the threshold on another split of the task (never on the
test labels: :mod:`harness.scoring.thresholds`) and scoring hands it to the metrics as
:attr:`harness.metrics.inputs.MetricInputs.calibrated_threshold`; without one the metric has no value and
says why. It is reported beside ``acc`` (the verdicts at the fixed threshold, 0.5 by default), never in its
place, so a detector whose scores rank well but sit on the wrong side of 0.5 shows both numbers.
"""

from __future__ import annotations

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.types import FloatArray


def calibrated_accuracy(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Per weight row: the share of labelled samples whose score is on the right side of the calibrated
    threshold (fake when p(fake) >= threshold); a sample without a finite score counts as wrong, as an
    unparsed answer does in ``acc``. NaN without a calibrated threshold or a labelled sample."""
    w = np.asarray(weights, dtype=np.float64)
    threshold = inputs.calibrated_threshold
    if threshold is None:
        return np.full(w.shape[0], np.nan)
    right = inputs.labelled & inputs.scored & ((inputs.scores >= threshold) == inputs.fake)
    total = w @ inputs.labelled.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (w @ right.astype(np.float64)) / total
    return np.where(total > 0, value, np.nan)


ACC_CALIBRATED = MetricDef(
    name="acc_calibrated",
    label="Acc (calibrated thr.)",
    evaluate=calibrated_accuracy,
    needs="calibrated",
    card="accuracy of p(fake) at a threshold fitted on a validation split (--threshold calibrate=SPLIT)",
)
