"""What every metric is computed from: the records of one task, as arrays built once and shared.

Metrics receive a :class:`MetricInputs` and a (b, n) weight matrix. The arrays they need (the column
matrix of :mod:`harness.metrics.columns`, the labels and scores of :mod:`harness.metrics.ranking`) are
built on first use and the last weighted sums are cached, so ten metrics over the same bootstrap chunk
cost one matrix product and one sort.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from harness.metrics.types import BoolArray, FloatArray
from harness.types import Record

MISSING_SCORE = 0.5
"""The p(fake) given to a labelled record without a finite score (a failed or missing sample): a coin."""


class MetricInputs:
    """The records of one task and the arrays derived from them (built lazily, shared by all metrics)."""

    def __init__(self, records: Sequence[Record], answer_kind: str) -> None:
        self.records = records
        self.answer_kind = answer_kind
        self._sums_key: object = None
        self._sums: FloatArray | None = None
        self._roc_key: object = None
        self._roc: tuple[FloatArray, FloatArray] | None = None

    def __len__(self) -> int:
        return len(self.records)

    @cached_property
    def columns(self) -> FloatArray:
        """The (n, N_COLUMNS) indicator/value matrix of :func:`harness.metrics.columns.record_columns`."""
        from harness.metrics.columns import record_columns

        return record_columns(self.records, self.answer_kind)

    def sums(self, weights: FloatArray) -> FloatArray:
        """``weights @ columns`` (b, N_COLUMNS), cached for the last ``weights`` object."""
        if self._sums is None or self._sums_key is not weights:
            self._sums = np.asarray(weights, dtype=np.float64) @ self.columns
            self._sums_key = weights
        return self._sums

    @cached_property
    def has_scores(self) -> bool:
        """Whether the model gave any p(fake) score (verdict-only models give none)."""
        return self.answer_kind != "choice" and any(r.score is not None for r in self.records)

    @cached_property
    def labelled(self) -> BoolArray:
        """Records with a real/fake label (the ones score metrics use)."""
        return np.array([r.label in ("real", "fake") for r in self.records], dtype=bool)

    @cached_property
    def fake(self) -> BoolArray:
        """Records labelled fake (the positive class of score metrics)."""
        return np.array([r.label == "fake" for r in self.records], dtype=bool)

    @cached_property
    def real(self) -> BoolArray:
        """Records labelled real."""
        return np.array([r.label == "real" for r in self.records], dtype=bool)

    @cached_property
    def scores(self) -> FloatArray:
        """p(fake) per record; :data:`MISSING_SCORE` where a record has no finite score."""
        return np.array([_finite_score(r.score) for r in self.records], dtype=np.float64)

    def roc_counts(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Weighted (fakes, reals) per distinct score, highest score first: two (b, G) matrices.

        Cached for the last ``weights`` object; all ranking metrics (AUC, AP, EER, TPR at FPR) are
        functions of these counts.
        """
        if self._roc is not None and self._roc_key is weights:
            return self._roc
        idx = np.flatnonzero(self.labelled)
        order = idx[np.argsort(-self.scores[idx], kind="stable")]
        w = np.asarray(weights, dtype=np.float64)[:, order]
        if order.size == 0:
            empty = np.zeros((w.shape[0], 0))
            self._roc, self._roc_key = (empty, empty), weights
            return self._roc
        sorted_scores = self.scores[order]
        starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
        is_fake = self.fake[order]
        fakes = np.add.reduceat(np.where(is_fake, w, 0.0), starts, axis=1)
        reals = np.add.reduceat(np.where(is_fake, 0.0, w), starts, axis=1)
        self._roc, self._roc_key = (fakes, reals), weights
        return self._roc

    @cached_property
    def distinct_scores(self) -> FloatArray:
        """The distinct scores of labelled records, highest first (the ROC's thresholds)."""
        values = np.unique(self.scores[self.labelled])
        return values[::-1].copy()


def _finite_score(score: float | None) -> float:
    if score is None:
        return MISSING_SCORE
    value = float(score)
    return value if math.isfinite(value) else MISSING_SCORE
