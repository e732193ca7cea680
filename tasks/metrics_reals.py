"""Per-generator accuracy where the generators share one pool of reals (DRCT-2M, Synthbuster, SynthWildX).

The owners of these sets score each generator's fakes together with *all* the reals: DRCT's
``test_DRCT-2M.sh`` runs once per generator with the MSCOCO val2017 reals, and GRIP's ``compute_metrics.py``
takes ``typ in ('real', generator)``. A breakdown group of spotfake holds only that generator's fakes, so its
plain accuracy is its fake accuracy; ``bacc_all_reals`` gives the owners' figure instead.
"""

from __future__ import annotations

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.types import FloatArray


def recall(weights: FloatArray, members: np.ndarray, right: np.ndarray) -> FloatArray:
    """Per weight row: the weighted share of ``right`` among ``members`` (NaN where they weigh nothing)."""
    n = weights @ members
    return np.divide(weights @ (members * right), n, out=np.full(n.shape, np.nan), where=n > 0)


def mean_present(rows: FloatArray) -> FloatArray:
    """The mean over axis 0 of the finite values of ``rows`` (NaN where a column has none)."""
    counted = np.isfinite(rows).sum(axis=0)
    total = np.nansum(rows, axis=0)
    return np.divide(total, counted, out=np.full(total.shape, np.nan), where=counted > 0)


def bacc_all_reals(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: bacc_all_reals.

    Definition: the balanced accuracy of the verdicts (the mean of the fake recall and the real recall;
        an unknown verdict is a miss) over the weighted records; for a row that weighs fakes but no real
        sample (a generator's breakdown group), the real recall is taken over all real samples of the task.
        On the whole task it equals ``balanced_acc``; per generator it is the accuracy DRCT (equal real and
        fake counts) and GRIP (``balanced_accuracy_score`` of one generator's fakes and all reals) report.
        Range [0, 1], 0.5 = a constant answer, higher is better.
    Citation: Chen et al., ICML 2024 (github.com/beibuwandeluori/DRCT, scripts/test_DRCT-2M.sh); Cozzolino et
        al., CVPRW 2024 (github.com/grip-unina/ClipBased-SyntheticImageDetection, compute_metrics.py).
    """
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    right = np.array(
        [r.verdict is not None and r.verdict == r.label for r in inputs.records], dtype=np.float64
    )
    real = inputs.real.astype(np.float64)
    fake = inputs.fake.astype(np.float64)
    no_reals = ((w @ real) == 0) & ((w @ fake) > 0)
    w_real = np.where(no_reals[:, None], 1.0, w)
    return mean_present(np.stack([recall(w, fake, right), recall(w_real, real, right)]))


def reals_metrics() -> list[MetricDef]:
    """The metrics this module adds to the registry."""
    return [
        MetricDef(
            "bacc_all_reals",
            "bAcc (all reals)",
            bacc_all_reals,
            card="balanced accuracy of a group's fakes against all real samples of the task",
        )
    ]
