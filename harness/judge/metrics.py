"""Task-level judge metrics from per-sample judge values: ``judge`` and the verdict-gated ``judge_gated``.

Metric card: judge.
    Definition: the mean judge value over the samples of the task, where a sample's value is the judge's
    1..5 grade mapped to 0..1 as ``(score - 1) / 4``; a sample without an explanation (no text, a failed
    or missing answer) counts 0; a judge failure (a reply that was not a valid grade, twice) is left out
    of the mean and counted in ``n_judge_failures``, never guessed. None when the model gave no text at
    all (experts). Range [0, 1], higher is better.
    Citation: judged explanations as in LOKI (Ye et al., 2024) and FakeBench (Li et al., 2024).

Metric card: judge_gated.
    Definition: as ``judge`` over labelled samples, but an explanation attached to a wrong or unparsed
    verdict counts 0: fluent text about the wrong call says the opposite of the truth, and an ungated
    score still rewards it. So ``judge_gated <= judge`` up to the sample sets.

Both are computed from two value columns per record by the same weighted-sum function for the point
value, per-category groups and bootstrap resamples (:func:`judge_values_of`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from harness.metrics.bootstrap import percentile_interval, resample_counts
from harness.metrics.types import FloatArray
from harness.types import Record

JUDGE_METRICS = ("judge", "judge_gated")
JUDGE_COUNTS = ("n_judged", "n_judge_failures")

N, SUM, GATED_N, GATED_SUM = range(4)


def has_explanation(record: Record) -> bool:
    """Whether the record carries text to judge (an answer without error and with non-blank text)."""
    return record.error is None and bool(record.response and record.response.strip())


def judge_columns(records: Sequence[Record], values: Mapping[str, float | None]) -> FloatArray:
    """(n, 4) matrix: in-population indicator and value, gated indicator and gated value per record.

    ``values`` maps sample id -> judge value in [0, 1], or None for a judge failure (left out).
    """
    cols = np.zeros((len(records), 4), dtype=np.float64)
    for i, rec in enumerate(records):
        if has_explanation(rec):
            if rec.id not in values or values[rec.id] is None:
                continue  # a judge failure (or not judged yet): never guessed
            value = float(values[rec.id])  # type: ignore[arg-type]
        else:
            value = 0.0
        cols[i, N] = 1.0
        cols[i, SUM] = value
        if rec.label is not None:
            cols[i, GATED_N] = 1.0
            cols[i, GATED_SUM] = value if rec.correct is True else 0.0
    return cols


def judge_values_of(sums: FloatArray) -> dict[str, FloatArray]:
    """``judge`` and ``judge_gated`` from column sums of any leading shape (NaN where undefined)."""
    out = {}
    for name, (num, den) in {"judge": (SUM, N), "judge_gated": (GATED_SUM, GATED_N)}.items():
        value = np.full(sums[..., den].shape, np.nan)
        np.divide(sums[..., num], sums[..., den], out=value, where=sums[..., den] > 0)
        out[name] = value
    return out


def _point(cols: FloatArray, mask: np.ndarray) -> dict[str, float | None]:
    values = judge_values_of(cols[mask].sum(axis=0))
    return {k: (None if np.isnan(v) else float(v)) for k, v in values.items()}


def judge_summary(
    records: Sequence[Record],
    values: Mapping[str, float | None],
    *,
    breakdowns: Sequence[str] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, object]:
    """Point values, counts, bootstrap intervals, per-category and breakdown values of the judge metrics.

    Returns ``{"metrics": {...}, "ci": {...}, "per_category": {cat: {...}}, "breakdowns": {field: {v:
    {...}}}}``, ready to merge into ``results.json``. Resamples are the records' own draws
    (:func:`harness.metrics.bootstrap.resample_counts`), seeded like every other interval.
    """
    cols = judge_columns(records, values)
    explained = [r for r in records if has_explanation(r)]
    if not explained:
        metrics: dict[str, float | int | None] = {m: None for m in JUDGE_METRICS}
        metrics.update({"n_judged": 0, "n_judge_failures": 0})
        return {"metrics": metrics, "ci": {}, "per_category": {}, "breakdowns": {}}
    everyone = np.ones(len(records), dtype=bool)
    metrics = dict(_point(cols, everyone))
    metrics["n_judged"] = sum(values.get(r.id) is not None for r in explained)
    metrics["n_judge_failures"] = sum(values.get(r.id) is None for r in explained)
    ci: dict[str, list[float]] = {}
    wanted = [m for m in JUDGE_METRICS if metrics[m] is not None]
    if wanted and n_bootstrap > 0:
        draws: dict[str, list[FloatArray]] = {m: [] for m in wanted}
        for counts in resample_counts(len(records), n_bootstrap, seed):
            resampled = judge_values_of(counts @ cols)
            for m in wanted:
                draws[m].append(resampled[m])
        for m in wanted:
            interval = percentile_interval(np.concatenate(draws[m]), confidence)
            if interval is not None:
                ci[m] = interval
    groups: dict[str, dict[str, dict[str, float | None]]] = {}
    for key in ("category", *breakdowns):
        found: dict[str, list[int]] = {}
        for i, rec in enumerate(records):
            value = rec.category if key == "category" else rec.metadata.get(key)
            if value is not None:
                found.setdefault(str(value), []).append(i)
        groups[key] = {}
        for value in sorted(found):
            mask = np.zeros(len(records), dtype=bool)
            mask[found[value]] = True
            groups[key][value] = _point(cols, mask)
    per_category = groups.pop("category")
    return {"metrics": metrics, "ci": ci, "per_category": per_category, "breakdowns": groups}
