"""Robustness sweeps: run a model on a task clean and under every strength of every perturbation axis.

Each point is an ordinary perturbed run (``runs/<model>/<task>@<slug>/``), so a finished point reuses its
records and a killed sweep resumes. The tables put a metric against the strengths of one perturbation,
one row per model; a preset (``social``) or a chain (``resize:0.5+jpeg:75``) is a table with one column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import LazyModel, Model
from spotfake.harness.perturb import STRONGER_WHEN_LOWER, Perturbation, Step, parse_sweep
from spotfake.harness.report.curves import RobustnessPoint, robustness_points
from spotfake.harness.results_contract import Results
from spotfake.harness.runner import RunOptions, RunOutcome, run
from spotfake.harness.task import LoadedTask


def plan(sweeps: Sequence[str]) -> list[Perturbation | None]:
    """The clean run, then every strength of every axis (``jpeg:95,85`` ...), duplicates dropped.

    Raises SpotfakeError on a bad axis, before any model is built.
    """
    if not sweeps:
        raise SpotfakeError("--perturb is required, e.g. --perturb 'jpeg:95,85,75,60,50'")
    points: list[Perturbation | None] = [None]
    for sweep in sweeps:
        points += parse_sweep(sweep)
    return list(dict.fromkeys(points))


def sweep(
    model: Model | LazyModel,
    model_args: Mapping[str, Any],
    task: LoadedTask,
    points: Sequence[Perturbation | None],
    options: RunOptions,
    *,
    on_point: Callable[[Perturbation | None, RunOutcome], None] | None = None,
) -> list[Results]:
    """Results of ``model`` on ``task`` at every point; ``on_point(point, outcome)`` after each one.

    Each point is an ordinary run, so finished points reuse their records (a :class:`LazyModel` is not
    even built when every point is finished) and a killed sweep resumes where it stopped.
    """
    out: list[Results] = []
    for point in points:
        outcome = run(model, model_args, task, replace(options, perturbation=point))
        if on_point is not None:
            on_point(point, outcome)
        if outcome.results is not None:
            out.append(outcome.results)
    return out


def _fmt(p: RobustnessPoint | None) -> str:
    if p is None or p.value is None:
        return "-"
    if p.low is None or p.high is None:
        return f"{p.value:.3f}"
    return f"{p.value:.3f} [{p.low:.3f}, {p.high:.3f}]"


def _column(name: str, strength: float | None) -> str:
    """A column title: the exact spec of the point (``jpeg:75``, ``blur:0.1234567``), or the axis itself
    for a preset or a chain (``social``, ``resize:0.5+jpeg:75``)."""
    return name if strength is None else Step(name, strength).text


def robustness_tables(results: Sequence[Results], metric: str, label: str) -> str:
    """Plain-text tables: for each perturbation, rows = models, columns = clean then each strength.

    A preset or a chain is a table of its own with one column (its spec), so every run has its value.
    """
    points = robustness_points(results, metric)
    clean = {p.model: p for p in points if p.perturbation == "clean"}
    blocks = []
    for name in sorted({p.perturbation for p in points} - {"clean"}):
        axis = [p for p in points if p.perturbation == name]
        values = {p.strength for p in axis if p.strength is not None}
        strengths: list[float | None] = [*sorted(values, reverse=name in STRONGER_WHEN_LOWER)] or [None]
        models = list(dict.fromkeys(p.model for p in axis))
        header = ["model", "clean", *(_column(name, s) for s in strengths)]
        rows = [header]
        for model in models:
            by_strength = {p.strength: p for p in axis if p.model == model}
            rows.append([model, _fmt(clean.get(model)), *(_fmt(by_strength.get(s)) for s in strengths)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        blocks.append(f"{label} vs {name}\n" + "\n".join(lines))
    return "\n\n".join(blocks)
