"""What every metric is computed from: the records of one task, as arrays built once and shared.

Metrics receive a :class:`MetricInputs` and a (b, n) weight matrix. The arrays they need (the column
matrix of :mod:`harness.metrics.columns`, the labels and scores of :mod:`harness.metrics.ranking`) are
built on first use and the last weighted sums are cached, so ten metrics over the same bootstrap chunk
cost one matrix product and one sort.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np

from spotfake.harness.metrics.types import BoolArray, FloatArray
from spotfake.harness.types import Record

T = TypeVar("T")

MISSING_SCORE = 0.5
"""The p(fake) given to a labelled record without a finite score (a failed or missing sample): a coin."""


class MetricInputs:
    """The records of one task and the arrays derived from them (built lazily, shared by all metrics)."""

    def __init__(
        self, records: Sequence[Record], answer_kind: str, calibrated_threshold: float | None = None
    ) -> None:
        self.records = records
        self.answer_kind = answer_kind
        self.calibrated_threshold = calibrated_threshold
        """A p(fake) threshold fitted on a validation split (``--threshold calibrate=SPLIT``), for metrics
        that need one (``needs="calibrated"``); None without one."""
        self._last: dict[str, tuple[object, Any]] = {}
        """name -> (the weights object, what was computed from it): one entry per derived quantity."""
        self._fields: dict[str, FloatArray] = {}
        self._vectors: dict[str, tuple[FloatArray, FloatArray]] = {}

    def __len__(self) -> int:
        return len(self.records)

    @cached_property
    def columns(self) -> FloatArray:
        """The (n, N_COLUMNS) indicator/value matrix of :func:`harness.metrics.columns.record_columns`."""
        from spotfake.harness.metrics.columns import record_columns

        return record_columns(self.records, self.answer_kind)

    def for_weights(self, name: str, weights: FloatArray, compute: Callable[[], T]) -> T:
        """``compute()``, remembered for the last ``weights`` object under ``name`` (all metrics of one
        bootstrap chunk get the same weights object, so each quantity is computed once per chunk)."""
        key, value = self._last.get(name, (None, None))
        if key is not weights:
            value = compute()
            self._last[name] = (weights, value)
        return cast(T, value)

    def sums(self, weights: FloatArray) -> FloatArray:
        """``weights @ columns`` (b, N_COLUMNS), computed once per ``weights`` object."""
        return self.for_weights("sums", weights, lambda: np.asarray(weights, dtype=np.float64) @ self.columns)

    def number_field(self, name: str) -> FloatArray:
        """A per-record number field (:meth:`harness.types.Record.metric_field`) of every record, NaN
        where a record has no value; built once per name."""
        if name not in self._fields:
            values = [r.metric_field(name) for r in self.records]
            self._fields[name] = np.array(
                [np.nan if v is None else float(v) for v in values], dtype=np.float64
            )
        return self._fields[name]

    def numbers_field(self, name: str, width: int) -> tuple[FloatArray, FloatArray]:
        """A per-record list-of-numbers field (``kind="numbers"``, e.g. n-gram counts) of every record: a
        0/1 vector of the records that have it and the (n, ``width``) matrix of the values, zeros where a
        record has none; built once per name."""
        if name not in self._vectors:
            values = [r.metric_field(name) for r in self.records]
            present = np.array([v is not None for v in values], dtype=np.float64)
            rows = [v if v is not None else [0.0] * width for v in values]
            self._vectors[name] = (present, np.array(rows, dtype=np.float64).reshape(-1, width))
        return self._vectors[name]

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

    @cached_property
    def scored(self) -> BoolArray:
        """Records with a finite p(fake) score."""
        return np.array(
            [r.score is not None and math.isfinite(float(r.score)) for r in self.records], dtype=bool
        )

    @cached_property
    def _groups(self) -> tuple[Any, FloatArray]:
        """A sparse (n, 2G) indicator: record i counts in column g if it is a fake scored at the g-th
        distinct score (highest first), in column G + g if it is a real one; and the G scores."""
        from scipy import sparse

        idx = np.flatnonzero(self.labelled)
        values, inverse = np.unique(-self.scores[idx], return_inverse=True)
        n, g = len(self.records), len(values)
        cols = inverse + np.where(self.fake[idx], 0, g)
        indicator = sparse.csc_matrix((np.ones(idx.size), (idx, cols)), shape=(n, 2 * g))
        return indicator, -values

    def roc_counts(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Weighted (fakes, reals) per distinct score, highest score first: two (b, G) matrices.

        Computed once per ``weights`` object; the ROC metrics (AUC, AP, EER, TPR at FPR) and the
        calibration metrics (ECE, Brier) are all functions of these counts.
        """

        def compute() -> tuple[FloatArray, FloatArray]:
            indicator, scores = self._groups
            counts = np.asarray(np.asarray(weights, dtype=np.float64) @ indicator)
            return counts[:, : scores.size], counts[:, scores.size :]

        return self.for_weights("roc", weights, compute)

    def cumulative_counts(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Weighted (true positives, false positives) of calling "fake" every sample scored at least each
        distinct score, with a leading 0 column: two (b, G + 1) matrices, once per ``weights`` object."""

        def compute() -> tuple[FloatArray, FloatArray]:
            fakes, reals = self.roc_counts(weights)
            zeros = np.zeros((fakes.shape[0], 1))
            tp = np.concatenate([zeros, np.cumsum(fakes, axis=1)], axis=1)
            fp = np.concatenate([zeros, np.cumsum(reals, axis=1)], axis=1)
            return tp, fp

        return self.for_weights("cumulative", weights, compute)

    @property
    def group_scores(self) -> FloatArray:
        """The distinct p(fake) of labelled records, highest first (the columns of :meth:`roc_counts`)."""
        scores: FloatArray = self._groups[1]
        return scores


def _finite_score(score: float | None) -> float:
    if score is None:
        return MISSING_SCORE
    value = float(score)
    return value if math.isfinite(value) else MISSING_SCORE
