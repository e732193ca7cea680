"""The models x tasks overview as a frame (pure): one headline metric per task, an average rank.

A row is one model name and source (reported rows are never merged with spotfake's own runs of a model
of the same name); a cell is the model's best value on the task's headline metric
(:func:`leaderboard.data.headline_metric`). Ranks are competition ranks per task in the metric's
direction, within a row's tier: reproduced runs, submissions (ranked apart unless the user merges them
with reproduced runs), reported rows (a paper's number is never ranked against a run); "Avg rank" is their mean over the tasks the row has. Rows are ordered by "Score", which is fair to
rows that cover different tasks: for every other row of its kind, the two rows' mean ranks over the tasks
*both* have are compared, and the score is the number of such pairings won minus those lost (Copeland's
method on shared tasks), so rank 1 on one task no longer ties rank 1 on five. Reproduced runs come
first, then submissions, then reported rows. "Updated" is the date of a row's newest result; "Params" its parameter count
(``model.parameters``: counted at run time, a paper's stated count, or a submitter's declared one), blank
when unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spotfake.harness.metrics.registry import higher_is_better, metric_label
from spotfake.leaderboard import data as lb


@dataclass(frozen=True)
class Overview:
    """The overview frame and, per task column, the task and its headline metric."""

    frame: pd.DataFrame
    columns: dict[str, tuple[str, str]]
    """column label -> (task, metric)."""


def column_label(task: str, metric: str) -> str:
    """``demo · Acc``: the task and the label of the metric its column shows."""
    return f"{task} · {metric_label(metric)}"


COUNT_UNITS = ((10**3, "K"), (10**6, "M"), (10**9, "B"), (10**12, "T"))


def human_count(count: float) -> str:
    """A parameter count as the board shows it: ``7.1B``, ``24M``, ``1.2K``, ``950`` (one decimal below ten
    units, none from ten up, a trailing ``.0`` dropped; 999,950 is ``1M``, not ``1000K``)."""
    number = int(count)
    if number < 1000:
        return str(number)
    for size, suffix in COUNT_UNITS:
        value = number / size
        text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
        if float(text) < 1000 or suffix == COUNT_UNITS[-1][1]:
            break
    return text.removesuffix(".0") + suffix


def parameter_count(results: Mapping[str, Any]) -> int | None:
    """``model.parameters`` of a results dict when it is a whole number, else None."""
    value = (results.get("model") or {}).get("parameters")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def overview(entries: Sequence[lb.RunEntry], tasks: Sequence[str], *, merge_tiers: bool = False) -> Overview:
    """Models x tasks over ``entries``; tasks in the given order (those without a value are left out).
    Reproduced runs and submissions are ranked and scored apart (reproduced first) unless ``merge_tiers``."""
    cells: dict[tuple[str, str], dict[str, float]] = {}
    kinds: dict[tuple[str, str], str] = {}
    updated: dict[tuple[str, str], str] = {}
    params: dict[tuple[str, str], tuple[str, int]] = {}  # row -> (created, count) of its newest count
    columns: dict[str, tuple[str, str]] = {}
    for task in tasks:
        rows = [e for e in entries if e.task == task]
        metric = lb.headline_metric(task, lb.metric_keys(rows))
        if metric is None:
            continue
        label = column_label(task, metric)
        better = max if higher_is_better(metric) else min
        for e in rows:
            value = lb.row_metrics(e)[0].get(metric)  # a reported F1 only in its own class's column
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            row = (e.name, e.source)
            kinds[row] = e.kind
            created = str(e.results.get("created", ""))
            updated[row] = max(updated.get(row, ""), created[:10])
            count = parameter_count(e.results)
            if count is not None and created >= params.get(row, ("", 0))[0]:
                params[row] = (created, count)  # the newest result's count
            previous = cells.setdefault(row, {}).get(label)
            cells[row][label] = float(value) if previous is None else better(previous, float(value))
            columns[label] = (task, metric)
    frame = pd.DataFrame.from_dict(cells, orient="index", columns=list(columns))
    frame.index = pd.MultiIndex.from_tuples(list(cells), names=["Model", "Source"]) if cells else frame.index
    tier = pd.Series([_tier(source, merge_tiers) for _, source in cells], index=frame.index, dtype=int)
    ranks = pd.DataFrame(
        {
            label: pd.concat(
                [
                    frame.loc[tier == t, label].rank(method="min", ascending=not higher_is_better(metric))
                    for t in sorted(set(tier))
                ]
                or [pd.Series(dtype=float)]
            )
            for label, (_, metric) in columns.items()
        },
        index=frame.index,
    )
    out = frame.reset_index() if cells else pd.DataFrame(columns=["Model", "Source", *columns])
    out.insert(2, "Kind", [lb.KIND_LABELS.get(kinds[r], kinds[r]) for r in cells])
    counts = pd.array([params[r][1] if r in params else None for r in cells], dtype="Int64")
    out.insert(3, "Params", counts)  # the tab shows model, score and tasks first (its column_order)
    out.insert(4, "Score", shared_task_scores(ranks, tier) if cells else [])
    out.insert(5, "Avg rank", ranks.mean(axis=1).to_numpy() if cells else [])
    out.insert(6, "Tasks", frame.notna().sum(axis=1).to_numpy() if cells else [])
    out["Updated"] = [updated[r] for r in cells]
    out["_tier"] = tier.to_numpy() if cells else []
    out = out.sort_values(
        ["_tier", "Score", "Avg rank", "Tasks", "Model"],
        ascending=[True, False, True, False, True],
        kind="stable",
    ).drop(columns="_tier")
    return Overview(out.reset_index(drop=True), columns)


def _tier(source: str, merge: bool) -> int:
    """The group a row is ranked in: reproduced runs, submissions (with them when ``merge``), reported rows."""
    if source not in lb.RANKED_TIERS:
        return len(lb.RANKED_TIERS)
    return 0 if merge else lb.RANKED_TIERS.index(source)


def shared_task_scores(ranks: pd.DataFrame, group: pd.Series) -> list[int]:
    """Per row: how many rows of its own group it beats minus how many beat it, each pair compared by
    mean rank over the tasks both have (pairs without a shared task count neither way)."""
    values = ranks.to_numpy(dtype=float)
    kinds = group.to_numpy()
    scores = []
    for i in range(len(values)):
        score = 0
        for j in range(len(values)):
            if i == j or kinds[i] != kinds[j]:
                continue
            shared = ~(pd.isna(values[i]) | pd.isna(values[j]))
            if shared.any():
                mine, theirs = values[i][shared].mean(), values[j][shared].mean()
                score += int(mine < theirs) - int(mine > theirs)
        scores.append(score)
    return scores
