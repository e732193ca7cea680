"""Comparing two runs on every metric of a task, sample by sample.

Both runs' records are aligned on the samples they share; then each metric is compared with one test:
exact McNemar for accuracy, DeLong's test for AUC, and for every other metric (F1, EER, ROUGE-L, CSS,
plugins, ...) a paired bootstrap through the engine's own metric functions: the same resample of samples
is applied to both runs (:func:`harness.metrics.bootstrap.resample_counts` draw counts as weights), so the
interval and p-value of ``A - B`` account for what the two runs share. The p-value of the bootstrap is
``(1 + #{|d* - d| >= |d|}) / (B + 1)`` (Efron & Tibshirani 1993, 16.4), so it never goes below
``1 / (B + 1)``; it is printed as "p < 0.001" there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spotfake.harness.metrics.bootstrap import resample_counts
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import metric_def
from spotfake.harness.types import Record
from spotfake.leaderboard.stats import delong, mcnemar

RESAMPLES = 2_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetricComparison:
    """``A - B`` on one metric over the shared samples, with its interval and the p-value of ``test``."""

    metric: str
    test: str
    n: int
    value_a: float
    value_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float


def align(a: Sequence[Record], b: Sequence[Record]) -> tuple[list[Record], list[Record]]:
    """The records of the samples both runs have, in one order (A's)."""
    by_id = {r.id: r for r in b}
    shared = [r for r in a if r.id in by_id]
    return shared, [by_id[r.id] for r in shared]


def _bootstrap(
    metrics: Sequence[str], a: MetricInputs, b: MetricInputs, resamples: int, seed: int
) -> dict[str, tuple[float, float, float, float, float, float]]:
    """Per metric: value of A, value of B, A - B, its percentile interval and the bootstrap p-value.

    Every metric sees the same resamples, chunk by chunk, so the weighted sums of a chunk are computed
    once for all metrics (:meth:`MetricInputs.sums` caches them per weight matrix)."""
    evaluate = {m: metric_def(m).evaluate for m in metrics}
    ones = np.ones((1, len(a)))
    points = {m: (float(f(a, ones)[0]), float(f(b, ones)[0])) for m, f in evaluate.items()}
    diffs: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for counts in resample_counts(len(a), resamples, seed):
        weights = counts.astype(np.float64)
        for m, f in evaluate.items():
            diffs[m].append(f(a, weights) - f(b, weights))
    out = {}
    alpha = (1.0 - CONFIDENCE) / 2.0
    for m in metrics:
        value_a, value_b = points[m]
        observed = value_a - value_b
        d = np.concatenate(diffs[m]) if diffs[m] else np.array([])
        d = d[~np.isnan(d)]
        if not np.isfinite(observed) or d.size == 0:
            out[m] = (value_a, value_b, observed, float("nan"), float("nan"), float("nan"))
            continue
        low, high = np.percentile(d, [100 * alpha, 100 * (1 - alpha)])
        extreme = np.abs(d - observed) >= abs(observed) - 1e-12
        p = 1.0 if abs(observed) < 1e-15 else float((1 + int(extreme.sum())) / (d.size + 1))
        out[m] = (value_a, value_b, observed, float(low), float(high), p)
    return out


def _with_test(
    metric: str, found: tuple[float, float, float, float, float, float], a: MetricInputs, b: MetricInputs
) -> MetricComparison | None:
    """The bootstrap outcome, with McNemar's p for accuracy and DeLong's test for AUC."""
    value_a, value_b, diff, low, high, p = found
    if not (np.isfinite(value_a) and np.isfinite(value_b)):
        return None
    records_a, records_b = a.records, b.records
    test = "paired bootstrap"
    if metric_def(metric).per_sample == "correct":
        right_a = [r.correct is True for r in records_a]
        right_b = [r.correct is True for r in records_b]
        test, p = "McNemar (exact)", mcnemar(right_a, right_b).p_value
    elif metric == "auc":
        keep = [i for i, r in enumerate(records_a) if r.label in ("real", "fake")]
        try:
            result = delong(a.scores[keep], b.scores[keep], [records_a[i].label == "fake" for i in keep])
            test, p, low, high = "DeLong", result.p_value, result.ci_low, result.ci_high
        except ValueError:
            pass  # fewer than two samples of a class: keep the bootstrap
    return MetricComparison(metric, test, len(a), value_a, value_b, diff, low, high, p)


Group = tuple[str, str]
"""``(field, value)``: a subset of the samples, by ``category`` or a breakdown field (``generator``)."""


def in_group(record: Record, group: Group) -> bool:
    """Whether ``record`` belongs to ``group`` (its category, or its metadata field, equals the value)."""
    field, value = group
    found = record.category if field == "category" else record.metadata.get(field)
    return found is not None and str(found) == value


def group_indices(records: Sequence[Record], group: Group, *, scores: bool) -> list[int]:
    """The records a metric of ``group`` is computed on, as the engine's breakdowns compute it: the group's
    records, and for score metrics (AUC, AP, EER, ...) of a group without reals, every real as well."""
    members = [i for i, r in enumerate(records) if in_group(r, group)]
    labels = {records[i].label for i in members}
    if scores and "real" not in labels and "fake" in labels:
        chosen = set(members) | {i for i, r in enumerate(records) if r.label == "real"}
        return sorted(chosen)
    return members


def compare_runs(
    metrics: Sequence[str],
    a: Sequence[Record],
    b: Sequence[Record],
    answer_kind: str,
    *,
    group: Group | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> list[MetricComparison]:
    """Every metric that both runs have a value for, compared on their shared samples (see :func:`align`),
    or on the shared samples of ``group`` (each comparison's ``n`` says how many)."""
    shared_a, shared_b = align(a, b)
    if not shared_a:
        return []
    if group is not None:
        out: dict[str, MetricComparison] = {}
        for scores in (False, True):
            chosen = [m for m in metrics if (metric_def(m).needs == "scores") == scores]
            keep = group_indices(shared_a, group, scores=scores)
            if chosen and keep:
                sub_a, sub_b = [shared_a[i] for i in keep], [shared_b[i] for i in keep]
                out.update(
                    {
                        c.metric: c
                        for c in compare_runs(
                            chosen, sub_a, sub_b, answer_kind, resamples=resamples, seed=seed
                        )
                    }
                )
        return [out[m] for m in metrics if m in out]
    inputs_a, inputs_b = MetricInputs(shared_a, answer_kind), MetricInputs(shared_b, answer_kind)
    found = _bootstrap(metrics, inputs_a, inputs_b, resamples, seed)
    compared = [_with_test(metric, found[metric], inputs_a, inputs_b) for metric in metrics]
    return [c for c in compared if c is not None]
