"""What ``spotfake list`` prints: tasks (size when the data is at hand), models (kind, an expert's card),
metrics and groups, suites; one line per entry (a model's card adds two)."""

from __future__ import annotations

from collections.abc import Iterator

from spotfake.harness.errors import SpotfakeError


def list_entries(what: str, pattern: str = "*", data_root: str | None = None) -> Iterator[str]:
    """The lines of ``spotfake list WHAT [PATTERN]``."""
    listers = {"metrics": _metrics, "suites": _suites, "models": _models}
    if what in listers:
        yield from listers[what](pattern)
    else:
        yield from _tasks(pattern, data_root)


def _metrics(pattern: str) -> Iterator[str]:
    from spotfake.harness.metrics.selection import metric_listing

    yield from metric_listing(pattern)


def _suites(pattern: str) -> Iterator[str]:
    from spotfake.harness.registry import SUITES

    for name in SUITES.names(pattern):
        suite = SUITES.get(name)
        tasks = ", ".join(dict.fromkeys(e.task for e in suite.entries))
        yield f"{name:<16} {suite.description}  [tasks: {tasks}; metrics: {', '.join(suite.metrics)}]"


def _models(pattern: str) -> Iterator[str]:
    from spotfake.harness.registry import MODELS

    for name in MODELS.names(pattern):
        entry = MODELS.entry(name)
        yield f"{name:<16} {entry.meta.get('kind', ''):<9} {entry.description}"
        if entry.meta.get("paper"):  # an expert's card: paper, year, weights licence, input rule
            meta = entry.meta
            yield f"{'':<27}{meta['paper']} {meta.get('year', '')}; weights: {meta.get('licence', '?')}"
            yield f"{'':<27}input: {meta.get('input', '?')}"


def _tasks(pattern: str, data_root: str | None) -> Iterator[str]:
    from spotfake.harness.registry import TASKS
    from spotfake.harness.task import load_task

    for name in TASKS.names(pattern):
        spec = TASKS.get(name)
        size = "-"
        if spec.default_data_root is not None or data_root:
            try:
                size = str(len(load_task(name, data_root).samples))
            except SpotfakeError:
                size = "-" if data_root else "?"
        yield f"{name:<16} n={size:<6} {spec.description}  [{', '.join(spec.metrics)}]"
