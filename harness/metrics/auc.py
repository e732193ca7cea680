"""ROC AUC of p(fake) scores, for the point estimate and, vectorised, for bootstrap resamples.

Metric card: auc
----------------
Definition
    Area under the ROC curve of ``score`` (the model's p(fake)) with **fake** as the positive class:
    the probability that a random fake image gets a higher score than a random real one, ties counting
    one half (Mann-Whitney U / (n_fake * n_real)). Computed only when the model gives scores (at least
    one record has one); None otherwise, for choice tasks, and when one class is absent.
Records without a score
    A labelled record with no (or a non-finite) score, such as a failed or missing sample, is given
    0.5, the score of a coin: it stays in the denominator, so failures cost the model instead of
    vanishing. Records without a label are left out.
Arguments
    ``labels_fake``: bool per record (label fake); ``scores``: p(fake) per record.
Citation
    Hanley and McNeil, "The meaning and use of the area under a ROC curve", Radiology 1982; computed
    with scikit-learn's ``roc_auc_score`` for the point estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from harness.metrics.types import BoolArray, FloatArray, IntArray
from harness.types import Record

MISSING_SCORE = 0.5


def auc_inputs(records: Sequence[Record], answer_kind: str) -> tuple[BoolArray, BoolArray, FloatArray] | None:
    """``(used, labels_fake, scores)`` over all records, or None when AUC does not apply.

    ``used`` marks the records that take part (those with a real/fake label); ``scores`` has
    :data:`MISSING_SCORE` where a record has no finite score.
    """
    if answer_kind == "choice":
        return None
    if not any(r.score is not None for r in records):
        return None
    used = np.array([r.label in ("real", "fake") for r in records], dtype=bool)
    fake = np.array([r.label == "fake" for r in records], dtype=bool)
    scores = np.array(
        [
            float(r.score) if r.score is not None and math.isfinite(float(r.score)) else MISSING_SCORE
            for r in records
        ],
        dtype=np.float64,
    )
    return used, fake, scores


def roc_auc(labels_fake: BoolArray, scores: FloatArray) -> float | None:
    """ROC AUC (fake positive) with scikit-learn; None when only one class is present."""
    if labels_fake.all() or not labels_fake.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels_fake.astype(int), scores))


def weighted_auc(weights: FloatArray | IntArray, labels_fake: BoolArray, scores: FloatArray) -> FloatArray:
    """ROC AUC for each row of ``weights`` (shape (b, n): how often each record is drawn), vectorised.

    Records are sorted by score once and grouped by equal score; for each resample the weighted counts
    of fakes and reals per group give ``sum_g fake_g * (reals below g + reals in g / 2)`` divided by
    ``fakes * reals``: the Mann-Whitney form of the AUC, ties counting one half. NaN where a resample
    lacks a class.
    """
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    w = np.asarray(weights, dtype=np.float64)[:, order]
    fake_sorted = labels_fake[order]
    fakes = np.add.reduceat(np.where(fake_sorted, w, 0.0), starts, axis=1)
    reals = np.add.reduceat(np.where(fake_sorted, 0.0, w), starts, axis=1)
    reals_below = np.cumsum(reals, axis=1) - reals
    wins = (fakes * (reals_below + 0.5 * reals)).sum(axis=1)
    pairs = fakes.sum(axis=1) * reals.sum(axis=1)
    out = np.full(w.shape[0], np.nan)
    np.divide(wins, pairs, out=out, where=pairs > 0)
    return out
