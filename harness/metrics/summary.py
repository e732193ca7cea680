"""Summarise scored records: metric values, bootstrap confidence intervals, per-category and other
breakdowns, the counts every result carries, and why a metric has no value.

Counts (always present):
- ``n``: all samples of the task (one record each, missing ones included);
- ``n_missing``: samples with no answer recorded (no response, no score, no error);
- ``n_errors``: samples whose prediction failed (``error`` set);
- ``n_unparsed``: samples without a verdict, missing and failed ones included; ``unparsed_rate`` is
  ``n_unparsed / n``;
- ``n_with_reference``: samples scored against a reference (a ``rouge_l`` or ``css`` value).

Every metric is evaluated the same way (:mod:`harness.metrics.registry`): a weight row per group or
bootstrap resample. Breakdowns of **score** metrics (AUC, AP, EER, ...) by a field whose group holds
fakes but no real sample (a generator, a fake source) compare that group with *all* real samples
("one group vs all reals", as cross-generator papers report); groups with both classes use their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spotfake.harness.metrics.bootstrap import percentile_interval, resample_counts
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef, check_metric_names, metric_def
from spotfake.harness.metrics.types import BoolArray, FloatArray
from spotfake.harness.types import Record

Value = float | int | None

ONE_GROUP_VS_ALL_REALS = (
    "score metrics (auc, ap, eer, tpr_at_fpr*, ece, brier) of a group with fakes but no real sample "
    "compare that group with all real samples of the task"
)


@dataclass
class Summary:
    """What :func:`summarize` returns (the metric parts of ``results.json``).

    ``metrics``: counts and metric values, flat (None where a metric does not apply or is undefined);
    ``ci``: ``{metric: [lo, hi]}`` bootstrap interval for each metric that has a value;
    ``per_category``: ``{category: {counts and metrics}}``;
    ``breakdowns``: ``{field: {value: {counts and metrics}}}`` for the requested metadata fields;
    ``null_reasons``: ``{metric: why it is None}`` for requested metrics without a value;
    ``verdict_only_floor``: explanation metrics of a model's fixed sentence (models that do not explain).
    """

    metrics: dict[str, Value]
    ci: dict[str, list[float]] = field(default_factory=dict)
    per_category: dict[str, dict[str, Value]] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, dict[str, Value]]] = field(default_factory=dict)
    null_reasons: dict[str, str] = field(default_factory=dict)
    verdict_only_floor: dict[str, Value] = field(default_factory=dict)
    """For a model that does not explain: what its fixed sentence scores on the explanation metrics,
    shown once per task as the floor that a real explanation must beat (never ranked)."""


def _as_value(x: float | FloatArray) -> float | None:
    value = float(np.asarray(x).reshape(-1)[0])
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


def unavailable_reason(metric: MetricDef, inputs: MetricInputs, explains: bool) -> str | None:
    """Why ``metric`` cannot have a value on these records (None when it can)."""
    kind = inputs.answer_kind
    if not metric.applies(kind):
        return f"not defined for {kind} tasks (needs {metric.needs})"
    if metric.needs in ("scores", "calibrated") and not inputs.has_scores:
        return "the model gives verdicts only, no p(fake) score"
    if metric.needs == "calibrated" and inputs.calibrated_threshold is None:
        return "no calibrated threshold (spotfake run --threshold calibrate=SPLIT, docs/protocols.md)"
    if metric.needs == "references" and not explains:
        return "the model does not explain (its fixed sentence is not an explanation)"
    return None


def _weights(mask: BoolArray) -> FloatArray:
    return mask.astype(np.float64)[None, :]


def _group_mask(metric: MetricDef, inputs: MetricInputs, mask: BoolArray) -> BoolArray:
    """One group vs all reals for score metrics of a group without real samples."""
    if metric.needs == "scores" and not (inputs.real & mask).any() and (inputs.fake & mask).any():
        return mask | inputs.real
    return mask


def _point_values(
    inputs: MetricInputs, mask: BoolArray, metrics: dict[str, MetricDef], usable: set[str]
) -> dict[str, Value]:
    values: dict[str, Value] = {}
    base = _weights(mask)
    for name, metric in metrics.items():
        if name not in usable:
            values[name] = None
            continue
        group = _group_mask(metric, inputs, mask)
        weights = base if group is mask else _weights(group)
        values[name] = _as_value(metric.evaluate(inputs, weights))
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
    inputs: MetricInputs, key: str, metrics: dict[str, MetricDef], usable: set[str]
) -> dict[str, dict[str, Value]]:
    """Counts and metric values for each value of ``key`` ("category" or a metadata field)."""
    records = inputs.records
    out: dict[str, dict[str, Value]] = {}
    for group, mask in _group_records(records, key).items():
        out[group] = _counts([r for r, keep in zip(records, mask, strict=True) if keep])
        out[group].update(_point_values(inputs, mask, metrics, usable))
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
    explains: bool = True,
    calibrated_threshold: float | None = None,
) -> Summary:
    """Counts, metric values and ``confidence`` percentile bootstrap intervals over ``records``.

    ``records`` holds one record per sample of the task (a missing sample is a record with no response,
    score or error). Metrics come from the metric registry. Intervals resample all records with
    replacement ``n_bootstrap`` times (seeded by ``seed``); a metric whose value is None gets no interval.
    ``per_category`` groups by ``record.category``, ``breakdowns`` by the named metadata fields; records
    with no value for a field are left out of that breakdown. Groups carry counts and values, no interval.
    ``explains=False`` (experts, baselines) leaves explanation metrics None with the reason.
    ``calibrated_threshold``: a threshold fitted on a validation split, for ``acc_calibrated``.
    """
    check_metric_names(metrics)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, not {n_bootstrap}")
    defs = {name: metric_def(name) for name in dict.fromkeys(metrics)}
    inputs = MetricInputs(records, answer_kind, calibrated_threshold)
    reasons = {}
    for name, metric in defs.items():
        reason = unavailable_reason(metric, inputs, explains)
        if reason is not None:
            reasons[name] = reason
    usable = {name for name in defs if name not in reasons}
    everyone = np.ones(len(records), dtype=bool)

    values = _counts(records)
    values.update(_point_values(inputs, everyone, defs, usable))
    for name in usable:
        if values[name] is None:
            reasons[name] = "undefined on these samples (e.g. a class or every reference is absent)"
    summary = Summary(metrics=values, null_reasons=dict(sorted(reasons.items())))
    if not explains:
        floor = {n: m for n, m in defs.items() if m.needs == "references" and m.applies(answer_kind)}
        summary.verdict_only_floor = {
            k: v for k, v in _point_values(inputs, everyone, floor, set(floor)).items() if v is not None
        }
    wanted = {n: defs[n] for n in defs if values.get(n) is not None}
    summary.ci = _intervals(inputs, wanted, n_bootstrap, seed, confidence)
    summary.per_category = _breakdown(inputs, "category", defs, usable)
    for key in dict.fromkeys(breakdowns):
        summary.breakdowns[key] = (
            summary.per_category if key == "category" else _breakdown(inputs, key, defs, usable)
        )
    return summary


def _intervals(
    inputs: MetricInputs,
    metrics: dict[str, MetricDef],
    n_bootstrap: int,
    seed: int,
    confidence: float,
) -> dict[str, list[float]]:
    if not metrics or n_bootstrap == 0:
        return {}
    draws: dict[str, list[FloatArray]] = {m: [] for m in metrics}
    for counts in resample_counts(len(inputs), n_bootstrap, seed):
        weights = counts.astype(np.float64)
        for name, metric in metrics.items():
            draws[name].append(metric.evaluate(inputs, weights))
    intervals: dict[str, list[float]] = {}
    for name in metrics:
        interval = percentile_interval(np.concatenate(draws[name]), confidence)
        if interval is not None:
            intervals[name] = interval
    return intervals
