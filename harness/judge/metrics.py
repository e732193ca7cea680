"""Task-level judge metrics from per-sample judge values: ``judge`` and the verdict-gated ``judge_gated``.

Metric card: judge.
    Definition: the mean judge value over the samples of the task, where a sample's value is the judge's
    grade mapped to 0..1 on its rubric's scale (spotfake's 1..5 as ``(score - 1) / 4``; LOKI's four
    criteria summed to 0..20 as ``total / 20``, over the fake samples with annotations, the samples LOKI's
    rubric grades); a sample without an explanation (no text, a failed or missing answer) counts 0; a judge failure (the judge answered, twice, with no valid grade: the
    explanation made it fail) counts as the lowest grade, 0, so text that breaks the judge can never
    raise a mean. A sample the judge could not be asked about (a transport error after every retry, an
    unreadable image) withholds the metric (None) until a rerun grades it. The mean is over the samples
    the run holds (a ``--limit`` run's own). Counts ``n_judged`` (valid grades), ``n_judge_failures``
    (every explanation without a grade), ``n_judge_errors`` (those never answered) and
    ``judge_failure_rate`` (``n_judge_failures`` over the explanations) are reported beside it.
    None when the model gave no text at all (experts). Range [0, 1], higher is better.
    Citation: judged explanations as in LOKI (Ye et al., 2024) and FakeBench (Li et al., 2024).

Metric card: judge_gated.
    Definition: as ``judge`` over labelled samples, but an explanation attached to a wrong or unparsed
    verdict counts 0: fluent text about the wrong call says the opposite of the truth, and an ungated
    score still rewards it. So ``judge_gated <= judge`` up to the sample sets.

Both are metrics of the one registry (entry point ``spotfake.metrics``: :func:`register_judge_metrics`).
Their ``evaluate(inputs, weights)`` reads the judge columns of :class:`JudgeInputs`, so the point value,
per-category groups and bootstrap resamples all go through it; over plain records (no judge run yet)
they are undefined (None), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from spotfake.harness.metrics.bootstrap import percentile_interval, resample_counts
from spotfake.harness.metrics.definitions import ratio
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef, metric_def, register_metric, register_metric_group
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.types import Record

JUDGE_METRICS = ("judge", "judge_gated")
JUDGE_COUNTS = ("n_judged", "n_judge_failures", "n_judge_errors", "judge_failure_rate")

N, SUM, GATED_N, GATED_SUM = range(4)


def has_explanation(record: Record) -> bool:
    """Whether the record carries text to judge: an answer without error whose explanation (the text
    without reasoning markup, :func:`harness.verdict.reasoning.explanation_text`) is not blank."""
    from spotfake.harness.verdict.reasoning import explanation_text

    if record.error is not None or not (record.response and record.response.strip()):
        return False
    return bool(explanation_text(record.response).strip())


def judge_columns(records: Sequence[Record], values: Mapping[str, float | None]) -> FloatArray:
    """(n, 4) matrix: in-population indicator and value, gated indicator and gated value per record.

    ``values`` maps sample id -> judge value in [0, 1], or None for a judge failure (counted as the
    lowest grade, 0); an explained record without an entry was not graded and is left out here
    (:func:`judge_summary` then withholds the metrics).
    """
    cols = np.zeros((len(records), 4), dtype=np.float64)
    for i, rec in enumerate(records):
        if has_explanation(rec):
            if rec.id not in values:
                continue  # never graded: withheld by judge_summary, never guessed
            graded = values[rec.id]
            value = 0.0 if graded is None else float(graded)
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
    return {
        "judge": ratio(sums[..., SUM], sums[..., N]),
        "judge_gated": ratio(sums[..., GATED_SUM], sums[..., GATED_N]),
    }


class JudgeInputs(MetricInputs):
    """Metric inputs that also carry the judge columns of :func:`judge_columns`."""

    def __init__(
        self, records: Sequence[Record], answer_kind: str, values: Mapping[str, float | None]
    ) -> None:
        super().__init__(records, answer_kind)
        self.judge_cols = judge_columns(records, values)


def _evaluator(name: str) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    def evaluate(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        if not isinstance(inputs, JudgeInputs):
            return np.full(w.shape[0], np.nan)  # no judge run: undefined
        return judge_values_of(w @ inputs.judge_cols)[name]

    evaluate.__doc__ = __doc__
    return evaluate


def judge_metric_defs() -> list[MetricDef]:
    """The registry entries of ``judge`` and ``judge_gated``."""
    return [
        MetricDef(
            name="judge",
            label="Judge",
            evaluate=_evaluator("judge"),
            needs="references",
            card="LMM judge grade of the explanation on 0..1 (its rubric in scoring.judge); a judge failure counts 0",
        ),
        MetricDef(
            name="judge_gated",
            label="Judge (gated)",
            evaluate=_evaluator("judge_gated"),
            needs="references",
            card="judge grade, 0 where the verdict is wrong or unparsed: fluent text cannot buy a wrong call points",
        ),
    ]


def register_judge_metrics() -> None:
    """Entry point of ``spotfake.metrics``: add ``judge`` and ``judge_gated`` and their group ``judged``."""
    for metric in judge_metric_defs():
        register_metric(metric, replace=True)
    register_metric_group(
        "judged", JUDGE_METRICS, description="LMM-judge grades of explanations (spotfake judge)", replace=True
    )


def _values(inputs: JudgeInputs, weights: FloatArray) -> dict[str, FloatArray]:
    return {name: metric_def(name).evaluate(inputs, weights) for name in JUDGE_METRICS}


def judge_summary(
    records: Sequence[Record],
    values: Mapping[str, float | None],
    *,
    breakdowns: Sequence[str] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    answer_kind: str = "verdict",
) -> dict[str, Any]:
    """Point values, counts, bootstrap intervals, per-category and breakdown values of the judge metrics.

    Returns ``{"metrics": {...}, "ci": {...}, "per_category": {cat: {...}}, "breakdowns": {field: {v:
    {...}}}}``, ready to merge into ``results.json``. Resamples are the records' own draws
    (:func:`harness.metrics.bootstrap.resample_counts`), seeded like every other interval.
    ``values`` as for :func:`judge_columns`: a None is a judge failure (the lowest grade), a missing id an
    explanation never graded, which withholds both metrics (None, no interval or groups) while the counts
    say how many.
    """
    explained = [r for r in records if has_explanation(r)]
    metrics: dict[str, float | int | None] = {m: None for m in JUDGE_METRICS}
    n_judged = sum(values.get(r.id) is not None for r in explained)
    n_errors = sum(r.id not in values for r in explained)
    metrics["n_judged"] = n_judged
    metrics["n_judge_failures"] = len(explained) - n_judged
    metrics["n_judge_errors"] = n_errors
    metrics["judge_failure_rate"] = (len(explained) - n_judged) / len(explained) if explained else None
    if not explained or n_errors:
        return {"metrics": metrics, "ci": {}, "per_category": {}, "breakdowns": {}}
    inputs = JudgeInputs(records, answer_kind, values)
    n = len(records)
    metrics.update(_as_values(_values(inputs, np.ones((1, n)))))
    ci: dict[str, list[float]] = {}
    wanted = [m for m in JUDGE_METRICS if metrics[m] is not None]
    if wanted and n_bootstrap > 0:
        draws: dict[str, list[FloatArray]] = {m: [] for m in wanted}
        for counts in resample_counts(n, n_bootstrap, seed):
            resampled = _values(inputs, counts.astype(np.float64))
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
            mask = np.zeros((1, n))
            mask[0, found[value]] = 1.0
            groups[key][value] = _as_values(_values(inputs, mask))
    per_category = groups.pop("category")
    return {"metrics": metrics, "ci": ci, "per_category": per_category, "breakdowns": groups}


def _as_values(values: dict[str, FloatArray]) -> dict[str, float | None]:
    return {k: (None if np.isnan(v[0]) else float(v[0])) for k, v in values.items()}


JUDGE_KEYS = (*JUDGE_METRICS, *JUDGE_COUNTS)


def without_judge(results: Any) -> Any:
    """A copy of a results dict without the judge's values (metrics, intervals, groups, ``scoring.judge``).

    Judge grades cannot be recomputed from a submission's answers alone (they need the judge), so a
    leaderboard check by recomputation compares and stores everything else.
    """
    import copy

    out = copy.deepcopy(results)
    for key in JUDGE_KEYS:
        out.get("metrics", {}).pop(key, None)
        out.get("ci", {}).pop(key, None)
        for group in out.get("per_category", {}).values():
            group.pop(key, None)
        for groups in out.get("breakdowns", {}).values():
            for group in groups.values():
                group.pop(key, None)
    (out.get("scoring") or {}).pop("judge", None)
    return out


def rubric_tag(results: Mapping[str, Any]) -> str:
    """The rubric a run's judge values were graded under, as a column qualifier: ``loki-1a2b3c4d`` (the
    rubric's name and the first 8 hex digits of its prompt sha256, both from ``scoring.judge``). A run
    judged before rubrics had names was graded under spotfake's; one that records no prompt hash is
    ``unrecorded``."""
    judge = (results.get("scoring") or {}).get("judge") or {}
    digest = str(judge.get("prompt_sha256") or "")
    if not digest:
        return "unrecorded"
    return f"{judge.get('rubric') or 'spotfake'}-{digest[:8]}"


def by_rubric(values: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (metrics, intervals or one group's) with each judge key named after its rubric,
    ``judge`` -> ``judge@loki-1a2b3c4d`` (:func:`rubric_tag`), so that values graded under different rubrics
    never share a column; other keys as they are."""
    if not any(key in values for key in JUDGE_KEYS):
        return dict(values)
    tag = rubric_tag(results)
    return {f"{key}@{tag}" if key in JUDGE_KEYS else key: value for key, value in values.items()}
