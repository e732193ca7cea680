"""Summarise scored records: metric values, bootstrap confidence intervals, per-category and other
breakdowns, and the counts every result carries.

Counts (always present):
- ``n``: all samples of the task (one record each, missing ones included);
- ``n_missing``: samples with no answer recorded (no response, no score, no error);
- ``n_errors``: samples whose prediction failed (``error`` set);
- ``n_unparsed``: samples without a verdict, missing and failed ones included; ``unparsed_rate`` is
  ``n_unparsed / n``;
- ``n_with_reference``: samples scored against a reference (a ``rouge_l`` or ``css`` value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.metrics.auc import auc_inputs, roc_auc, weighted_auc
from harness.metrics.bootstrap import percentile_interval, resample_counts
from harness.metrics.definitions import METRICS, check_metric_names, record_columns
from harness.metrics.types import BoolArray, FloatArray
from harness.types import Record

Value = float | int | None


@dataclass
class Summary:
    """What ``summarize`` returns; ``to_json()`` gives the plain dict stored in ``results.json``.

    ``metrics``: counts and metric values, flat (None where a metric does not apply or is undefined);
    ``ci``: ``{metric: [lo, hi]}`` bootstrap interval for each metric that has a value;
    ``per_category``: ``{category: {counts and metrics}}``;
    ``breakdowns``: ``{field: {value: {counts and metrics}}}`` for the requested metadata fields.
    """

    metrics: dict[str, Value]
    ci: dict[str, list[float]] = field(default_factory=dict)
    per_category: dict[str, dict[str, Value]] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, dict[str, Value]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain, JSON-ready dict (copies, never the summary's own containers)."""
        return {
            "metrics": dict(self.metrics),
            "ci": {k: list(v) for k, v in self.ci.items()},
            "per_category": {k: dict(v) for k, v in self.per_category.items()},
            "breakdowns": {
                f: {v: dict(m) for v, m in groups.items()} for f, groups in self.breakdowns.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        """Rebuild a summary from :meth:`to_json` output."""
        return cls(
            metrics=dict(data.get("metrics", {})),
            ci={k: list(v) for k, v in data.get("ci", {}).items()},
            per_category={k: dict(v) for k, v in data.get("per_category", {}).items()},
            breakdowns={
                f: {v: dict(m) for v, m in groups.items()} for f, groups in data.get("breakdowns", {}).items()
            },
        )


def _as_value(x: float | FloatArray) -> float | None:
    value = float(x)
    return None if np.isnan(value) else value


def _counts(records: Sequence[Record]) -> dict[str, Value]:
    n = len(records)
    n_unparsed = sum(r.verdict is None for r in records)
    return {
        "n": n,
        "n_missing": sum(r.response is None and r.score is None and r.error is None for r in records),
        "n_errors": sum(r.error is not None for r in records),
        "n_unparsed": n_unparsed,
        "unparsed_rate": n_unparsed / n if n else None,
        "n_with_reference": sum(r.rouge_l is not None or r.css is not None for r in records),
    }


def _applies(name: str, answer_kind: str) -> bool:
    return not (answer_kind == "choice" and METRICS[name].classification)


def _point_values(
    columns: FloatArray,
    mask: BoolArray,
    auc_data: tuple[BoolArray, BoolArray, FloatArray] | None,
    *,
    answer_kind: str,
    metrics: Sequence[str],
) -> dict[str, Value]:
    sums = columns[mask].sum(axis=0)
    values: dict[str, Value] = {}
    for name in metrics:
        fn = METRICS[name].fn
        if not _applies(name, answer_kind):
            values[name] = None
        elif name == "auc":
            if auc_data is None:
                values[name] = None
            else:
                used, fake, scores = auc_data
                keep = used & mask
                values[name] = roc_auc(fake[keep], scores[keep])
        elif fn is not None:
            values[name] = _as_value(fn(sums))
    return values


def _group_records(records: Sequence[Record], key: str) -> dict[str, BoolArray]:
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        value = rec.category if key == "category" else rec.metadata.get(key)
        if value is not None:
            groups.setdefault(str(value), []).append(i)
    masks: dict[str, BoolArray] = {}
    for value in sorted(groups):
        mask = np.zeros(len(records), dtype=bool)
        mask[groups[value]] = True
        masks[value] = mask
    return masks


def _breakdown(
    records: Sequence[Record],
    key: str,
    columns: FloatArray,
    auc_data: tuple[BoolArray, BoolArray, FloatArray] | None,
    *,
    answer_kind: str,
    metrics: Sequence[str],
) -> dict[str, dict[str, Value]]:
    """Counts and metric values for each value of ``key`` ("category" or a metadata field)."""
    out: dict[str, dict[str, Value]] = {}
    for group, mask in _group_records(records, key).items():
        out[group] = _counts([r for r, keep in zip(records, mask, strict=True) if keep])
        out[group].update(_point_values(columns, mask, auc_data, answer_kind=answer_kind, metrics=metrics))
    return out


def summarize(
    records: Sequence[Record],
    *,
    answer_kind: str,
    metrics: Sequence[str],
    breakdowns: Sequence[str] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Summary:
    """Counts, metric values and ``confidence`` percentile bootstrap intervals over ``records``.

    ``records`` holds one record per sample of the task (a missing sample is a record with no response,
    score or error). Metric definitions: :mod:`harness.metrics.definitions` (acc, f1, f1_fake, f1_macro,
    balanced_acc, rouge_l, css) and :mod:`harness.metrics.auc`. Intervals resample all records with
    replacement ``n_bootstrap`` times (seeded by ``seed``); a metric whose value is None gets no interval.
    ``per_category`` groups by ``record.category``, ``breakdowns`` by the named metadata fields; records
    with no value for a field are left out of that breakdown. Groups carry counts and values, no interval.
    """
    check_metric_names(metrics)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, not {n_bootstrap}")
    metrics = list(dict.fromkeys(metrics))
    columns = record_columns(records, answer_kind)
    auc_data = auc_inputs(records, answer_kind) if "auc" in metrics else None
    everyone = np.ones(len(records), dtype=bool)

    values = _counts(records)
    values.update(_point_values(columns, everyone, auc_data, answer_kind=answer_kind, metrics=metrics))
    summary = Summary(metrics=values)
    summary.ci = _intervals(columns, auc_data, values, metrics, n_bootstrap, seed, confidence)

    summary.per_category = _breakdown(
        records, "category", columns, auc_data, answer_kind=answer_kind, metrics=metrics
    )
    for key in dict.fromkeys(breakdowns):
        summary.breakdowns[key] = (
            summary.per_category
            if key == "category"
            else _breakdown(records, key, columns, auc_data, answer_kind=answer_kind, metrics=metrics)
        )
    return summary


def _intervals(
    columns: FloatArray,
    auc_data: tuple[BoolArray, BoolArray, FloatArray] | None,
    values: dict[str, Value],
    metrics: Sequence[str],
    n_bootstrap: int,
    seed: int,
    confidence: float,
) -> dict[str, list[float]]:
    wanted = [m for m in metrics if values.get(m) is not None]
    if not wanted or n_bootstrap == 0:
        return {}
    draws: dict[str, list[FloatArray]] = {m: [] for m in wanted}
    for counts in resample_counts(len(columns), n_bootstrap, seed):
        sums = counts @ columns
        for name in wanted:
            fn = METRICS[name].fn
            if name == "auc" and auc_data is not None:
                used, fake, scores = auc_data
                draws[name].append(weighted_auc(counts[:, used], fake[used], scores[used]))
            elif fn is not None:
                draws[name].append(fn(sums))
    intervals: dict[str, list[float]] = {}
    for name in wanted:
        interval = percentile_interval(np.concatenate(draws[name]), confidence)
        if interval is not None:
            intervals[name] = interval
    return intervals
