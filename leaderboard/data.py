"""Result rows -> pandas frames for the leaderboard (no Streamlit here, so it is testable on its own).

Rows come from :mod:`leaderboard.scan` (committed ``results/`` and local ``runs/``); every row says where it
came from (``origin``: committed / local) and what it is (``source``: reproduced / reported / submitted).
Metric labels, directions and per-sample fields come from the engine's metric registry
(:mod:`harness.metrics.registry`) and the record fields from :class:`harness.types.Record`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge.metrics import by_rubric
from spotfake.harness.metrics.registry import (
    COUNT_LABELS,
    METRICS,
    base_metric,
    higher_is_better,
    metric_def,
    metric_label,
)
from spotfake.harness.model_kind import KIND_LABELS, MODEL_KINDS
from spotfake.harness.results import SAMPLES_FILE
from spotfake.harness.types import Record
from spotfake.leaderboard.f1_convention import board_f1
from spotfake.leaderboard.scan import COMMITTED, LOCAL, ORIGIN_LABELS, Board, RunEntry, load_board, scan

__all__ = [
    "COMMITTED",
    "KIND_LABELS",
    "LOCAL",
    "ORIGIN_LABELS",
    "Board",
    "RunEntry",
    "higher_is_better",
    "load_board",
    "metric_label",
    "scan",
]

SOURCES = ("reproduced", "reported", "submitted")
RANKED_TIERS = ("reproduced", "submitted")
"""The sources ranked against each other's kind, most trusted first; each tier is ranked on its own unless the
user merges them (a paper's reported rows are never ranked against runs)."""
KINDS = MODEL_KINDS
DEFAULT_SHOWN = ("acc", "f1", "auc", "rouge_l", "css")
"""Metrics the first screen shows when a task has them (the others are one click away)."""
SAMPLE_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Record))
"""Columns of a samples frame: the fields of the engine's Record."""


def is_count(key: str) -> bool:
    """``n``, ``n_missing``, ``n_errors``, ... are counts, not scores (``unparsed_rate`` is shown)."""
    return key == "n" or key.startswith("n_")


@cache
def metric_order() -> dict[str, int]:
    """Position of each registered metric in tables: the built-ins in their table order, then plugins."""
    from spotfake.harness.metrics.builtin import builtin_metrics

    names = [m.name for m in builtin_metrics()]
    names += sorted(set(METRICS.names()) - set(names))
    return {name: i for i, name in enumerate(names)}


def per_sample_metrics() -> dict[str, str]:
    """Metrics that are means of a Record field (``acc`` -> ``correct``), usable for paired comparisons."""
    out = {}
    for name in metric_order():
        field = metric_def(name).per_sample
        if field:
            out[name] = field
    return out


def row_metrics(entry: RunEntry) -> tuple[dict[str, object], str]:
    """An entry's metrics as the board ranks them, and a note; a reported F1 sits in the column of its
    positive class, or in none (:func:`leaderboard.f1_convention.board_f1`); judge values sit in the column
    of their rubric (:func:`harness.judge.metrics.by_rubric`)."""
    metrics: dict[str, object] = by_rubric(entry.results.get("metrics", {}), entry.results)
    if entry.source != "reported":
        return metrics, ""
    return board_f1(metrics, entry.results.get("reported", {}))


def metric_keys(entries: Iterable[RunEntry]) -> list[str]:
    """Score metrics present in any entry (counts excluded), in the registry's table order; the rates of
    :data:`COUNT_LABELS` (``unparsed_rate``) last."""
    found: set[str] = set()
    for e in entries:
        found |= {k for k, v in row_metrics(e)[0].items() if not is_count(k) and v is not None}
    order = metric_order()
    rates = sorted(found & set(COUNT_LABELS))
    rest = sorted(found - set(rates), key=lambda m: (order.get(m, len(order)), m))
    return rest + rates


def task_metrics(task: str) -> tuple[str, ...]:
    """The metrics the task's definition lists, in its order (empty for a task not registered here)."""
    from spotfake.harness.registry import TASKS

    if task not in TASKS:
        return ()
    try:
        return tuple(TASKS.get(task).metrics)
    except Exception:  # a broken plugin's task must not take the board down
        return ()


def task_description(task: str) -> str:
    """The one-line description of a registered task ("" for others)."""
    from spotfake.harness.registry import TASKS

    if task not in TASKS:
        return ""
    try:
        return str(TASKS.get(task).description)
    except Exception:  # a broken plugin's task must not take the board down
        return ""


def rankable(name: str) -> bool:
    """Whether rows may be ranked by ``name`` (not a diagnostic such as ``acc_oracle``; unknown names are)."""
    name = base_metric(name)
    return metric_def(name).ranked if name in METRICS else True


def headline_metric(task: str, available: Sequence[str]) -> str | None:
    """The metric a task is ranked by: the first one its definition lists that has values, else the
    first available one (reported-only tasks); never a diagnostic that is not ranked."""
    candidates = [m for m in available if rankable(m)]
    for name in task_metrics(task):
        if name in candidates:
            return name
    return candidates[0] if candidates else None


def _number(value: object) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


IDENTITY_COLUMNS = (
    "key",
    "task",
    "model",
    "name",
    "kind",
    "source",
    "origin",
    "origins",
    "n",
    "citation",
    "table",
    "notes",
    "f1_note",
    "flags",
    "has_samples",
    "created",
    "folder",
    "run_key",
    "description",
    "paper",
    "code",
    "licence",
)


def model_licence(name: str) -> str:
    """The weights licence a registered model's card gives (an expert's), or "" (the name's ``@args`` part
    and unknown names are ignored)."""
    from spotfake.harness.registry import MODELS

    base = name.split("@", 1)[0]
    try:
        return str(MODELS.entry(base).meta.get("licence", "")) if base in MODELS else ""
    except SpotfakeError:
        return ""


def verdict_only_floor(entries: Iterable[RunEntry], metric: str) -> float | None:
    """The highest verdict-only floor of ``metric`` among the rows (what a fixed sentence scores against the
    references: an explanation below it says less than a bare verdict), or None when no row has one."""
    floors = [
        float(v)
        for e in entries
        if isinstance(v := (e.results.get("verdict_only_floor") or {}).get(metric), (int, float))
    ]
    return max(floors) if floors else None


def suspicion(results: Mapping[str, Any]) -> str:
    """The suspicion flags a stored submission carries (``labels_copied, above_reproduced``), or ""."""
    flags = (results.get("provenance") or {}).get("flags") or []
    return ", ".join(str(f.get("flag")) for f in flags if isinstance(f, dict))


def results_frame(entries: Sequence[RunEntry]) -> pd.DataFrame:
    """One row per result: identity columns (a submission's own description, paper, code and licence
    among them), every metric, ``<metric>_lo`` / ``<metric>_hi`` CI bounds."""
    from spotfake.leaderboard.submission.metadata import shown_metadata

    metrics = metric_keys(entries)
    rows = []
    for e in entries:
        res = e.results
        values, f1_note = row_metrics(e)
        ci = by_rubric(res.get("ci", {}), res)
        reported = res.get("reported", {}) if e.source == "reported" else {}
        row: dict[str, object] = {
            "key": e.key,
            "task": e.task,
            "model": e.model,
            "name": e.name,
            "kind": e.kind,
            "source": e.source,
            "origin": COMMITTED if COMMITTED in e.origins else e.origin,
            "origins": " + ".join(ORIGIN_LABELS.get(o, o) for o in e.origins),
            "n": values.get("n", res["task"].get("n")),
            "citation": str(reported.get("citation", "")),
            "table": str(reported.get("table", "")),
            "notes": str(reported.get("notes", "")),
            "f1_note": f1_note,
            "flags": suspicion(res),
            "has_samples": e.has_samples,
            "created": res.get("created", ""),
            "folder": str(e.folder),
            "run_key": res.get("run_key", ""),
            **{k: "" for k in ("description", "paper", "code", "licence")},
            **(shown_metadata(res) if e.source == "submitted" else {}),
        }
        for m in metrics:
            row[m] = _number(values.get(m))
            bounds = ci.get(m) or [None, None]
            row[f"{m}_lo"] = _number(bounds[0])
            row[f"{m}_hi"] = _number(bounds[1] if len(bounds) > 1 else None)
        rows.append(row)
    columns = list(IDENTITY_COLUMNS)
    for m in metrics:
        columns += [m, f"{m}_lo", f"{m}_hi"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").astype("Int64")
    return frame


def breakdown_fields(entries: Iterable[RunEntry]) -> list[str]:
    """``category`` (when any entry has per-category values) and every breakdown field found."""
    entries = list(entries)
    fields = ["category"] if any(e.results.get("per_category") for e in entries) else []
    extra: set[str] = set()
    for e in entries:
        extra |= set(e.results.get("breakdowns", {}))
    return fields + sorted(extra - {"category"})


def breakdown_frame(entries: Sequence[RunEntry], by: str = "category") -> pd.DataFrame:
    """Long frame ``key, model, label, source, origin, value, metric, score, n`` from per-category values
    (``by="category"``) or from ``breakdowns[by]``."""
    rows = []
    for e in entries:
        if by == "category":
            groups = e.results.get("per_category", {})
        else:
            groups = e.results.get("breakdowns", {}).get(by, {})
        for value, metrics in groups.items():
            metrics = by_rubric(metrics, e.results)
            n = metrics.get("n")
            for metric, score in metrics.items():
                if is_count(metric):
                    continue
                rows.append(
                    {
                        "key": e.key,
                        "model": e.name,
                        "label": e.label,
                        "source": e.source,
                        "origin": e.origin,
                        "value": str(value),
                        "metric": metric,
                        "score": _number(score),
                        "n": n,
                    }
                )
    columns = ["key", "model", "label", "source", "origin", "value", "metric", "score", "n"]
    return pd.DataFrame(rows, columns=columns)


def load_samples(folder: Path) -> pd.DataFrame:
    """The records of one run folder as a frame indexed by sample id (strict: a bad line is an error)."""
    from spotfake.harness.results import read_records

    records = read_records(folder / SAMPLES_FILE)
    rows = [{c: getattr(r, c) for c in SAMPLE_COLUMNS} for r in records]
    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    if frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise SpotfakeError(f"{folder / SAMPLES_FILE}: duplicate sample id {dup!r}")
    return frame.set_index("id", drop=False)


def paired_values(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per-sample values of two runs on the samples both have, as columns ``a`` and ``b`` (index = id).

    A metric whose per-sample field is ``correct`` (accuracy): 1 for a correct verdict, 0 otherwise (an
    unparsed or missing answer is never correct, as in the metric). Other fields (``rouge_l``, ``css``):
    only samples where both runs have a value.
    """
    fields = per_sample_metrics()
    column = fields.get(metric)
    if column is None:
        raise SpotfakeError(f"metric {metric!r} has no per-sample value; choose one of {sorted(fields)}")
    ids = a.index.intersection(b.index, sort=False)
    left = a.loc[ids, column]
    right = b.loc[ids, column]
    if column == "correct":
        return pd.DataFrame({"a": left.eq(True).astype(float), "b": right.eq(True).astype(float)}, index=ids)
    pair = pd.DataFrame(
        {"a": pd.to_numeric(left, errors="coerce"), "b": pd.to_numeric(right, errors="coerce")}
    )
    return pair.dropna()
