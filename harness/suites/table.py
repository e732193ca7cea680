"""A suite's table: for each model, one row per entry (or per generator) and the mean, standard deviation
and worst value of each metric across those rows, rendered with the report's table renderers.

A suite may also print each entry's own mean, std and worst after its rows (``entry_summaries``) and take
the suite's summary over one value per entry instead of over every row (``summary_over: entries``): DDA's
README prints each benchmark's mean ± std over its generators, then the mean ± std and the minimum over the
benchmarks' means.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from spotfake.harness.report.tables import Cell, Row, Table
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity
from spotfake.harness.suites.spec import SuiteEntry, SuiteSpec

SUMMARY_ROWS = ("mean", "std", "worst")
"""Across the rows of one model: mean, sample standard deviation (n - 1) and the worst value (the minimum of
a higher-is-better metric, the maximum of a lower-is-better one)."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        return None
    return float(value)


def matches(entry: SuiteEntry, results: Results) -> bool:
    """Whether a results file is this entry's run: same task, the entry's arguments, clean images."""
    task = results["task"]
    args = task.get("args") or {}
    same_args = all(str(args.get(k)) == v for k, v in entry.args.items())
    return task["name"] == entry.task and same_args and "perturbation" not in results


def _model_of(results: Results) -> str:
    """The model as the suite table names it: name and model arguments, no task arguments."""
    identity = RunIdentity.from_results(results)
    return identity.model_folder if identity.model_args else identity.model


def _rows_of(entry: SuiteEntry, results: Results | None, metrics: Sequence[str]) -> list[Row]:
    def row(name: str, values: Mapping[str, object], ci: Mapping[str, Sequence[object]]) -> Row:
        cells = []
        for m in metrics:
            low, high = (list(ci.get(m) or []) + [None, None])[:2]
            cells.append(Cell(_number(values.get(m)), _number(low), _number(high)))
        return Row(name, "reproduced" if results is None else results["source"], None, tuple(cells))

    if results is None:
        return [row(f"{entry.title} (not run)", {}, {})]
    if entry.rows_by is None:
        return [row(entry.title, results["metrics"], results.get("ci", {}))]
    groups = (
        results["per_category"] if entry.rows_by == "category" else results["breakdowns"].get(entry.rows_by)
    )
    if not groups:
        return [row(f"{entry.title} (no {entry.rows_by} breakdown)", {}, {})]
    return [
        row(f"{entry.title} / {value}", groups[value], {})
        for value in sorted(groups)
        if not _reals_only(groups[value])
    ]


def _reals_only(values: Mapping[str, object]) -> bool:
    """A group of real images alone (the reals' own ``generator`` value): a column of its own in no paper's
    per-generator table, so not a row (its real accuracy is in every generator row that holds reals)."""
    return values.get("acc_fake") is None and values.get("acc_real") is not None


def _summary(rows: Sequence[Row], metrics: Sequence[str], prefix: str = "") -> list[Row]:
    """Mean, std and worst of each metric over ``rows`` (rows named ``<prefix>mean``, ...)."""
    from spotfake.harness.metrics import metric_def

    out: dict[str, list[Cell]] = {name: [] for name in SUMMARY_ROWS}
    for j, m in enumerate(metrics):
        values = [v for r in rows if (v := r.cells[j].value) is not None]
        higher = metric_def(m).higher_is_better
        out["mean"].append(Cell(statistics.fmean(values) if values else None))
        out["std"].append(Cell(statistics.stdev(values) if len(values) > 1 else None))
        out["worst"].append(Cell((min(values) if higher else max(values)) if values else None))
    return [Row(f"{prefix}{name}", "summary", None, tuple(cells)) for name, cells in out.items()]


def _entry_block(spec: SuiteSpec, entry: SuiteEntry, found: Results | None) -> tuple[list[Row], list[Row]]:
    """An entry's rows as the table shows them (its own mean, std and worst after them with
    ``entry_summaries``), and what it contributes to the suite's summary (its rows, or with
    ``summary_over: entries`` one row: its mean, or its single row)."""
    rows = _rows_of(entry, found, spec.metrics)
    own = _summary(rows, spec.metrics, f"{entry.title} ") if entry.rows_by is not None else []
    shown = rows + (own if spec.entry_summaries and found is not None else [])
    if not entry.summary:
        return shown, []
    if spec.summary_over == "rows":
        return shown, rows
    return shown, own[:1] if own else rows


def suite_tables(spec: SuiteSpec, results: Sequence[Results]) -> list[Table]:
    """One table per model found among ``results``: the suite's rows (each entry's own summary after its rows
    with ``entry_summaries``), then mean, std and worst over the rows of entries with ``summary: true`` (or,
    with ``summary_over: entries``, over one value per such entry)."""
    from spotfake.harness.metrics import metric_def

    labels = tuple(metric_def(m).label for m in spec.metrics)
    ours = [r for r in results if any(matches(e, r) for e in spec.entries)]
    tables = []
    for model in dict.fromkeys(_model_of(r) for r in ours):
        of_model = [r for r in ours if _model_of(r) == model]
        rows: list[Row] = []
        counted: list[Row] = []
        for entry in spec.entries:
            found = next((r for r in of_model if matches(entry, r)), None)
            shown, counts = _entry_block(spec, entry, found)
            rows += shown
            counted += counts
        tables.append(
            Table(f"{spec.name}: {model}", spec.metrics, labels, (*rows, *_summary(counted, spec.metrics)))
        )
    return tables
