"""``acc_oracle``: the accuracy at the best threshold chosen on the test labels themselves.

Some published evaluation code reports it beside accuracy at 0.5 (UnivFD's ``validate.py`` computes
``acc1`` at ``find_best_threshold`` over the test predictions; copies such as Effort's UFD benchmark pick a
different threshold for every test subset). It is an upper bound that no deployed detector reaches, so
spotfake offers it only under its own name, as a diagnostic: it is never a ranking metric
(``MetricDef.ranked = False``), the board lists it apart, and no task asks for it by default
(``--metrics +acc_oracle``).
"""

from __future__ import annotations

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.types import FloatArray


def oracle_accuracy(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Per weight row: the highest accuracy over every threshold on the scored, labelled samples (calling
    fake every sample scored at least the threshold, and calling none fake); NaN without both classes."""
    tp, fp = inputs.cumulative_counts(weights)
    fakes, reals = tp[:, -1:], fp[:, -1:]
    total = (fakes + reals)[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        best = ((tp + (reals - fp)).max(axis=1)) / total
    both = (fakes[:, 0] > 0) & (reals[:, 0] > 0)
    return np.where(both, best, np.nan)


ACC_ORACLE = MetricDef(
    name="acc_oracle",
    label="Acc (oracle thr.)",
    evaluate=oracle_accuracy,
    needs="scores",
    card="accuracy at the threshold that is best on the test labels: an upper bound, never ranked",
    ranked=False,
)
