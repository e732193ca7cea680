"""Suite definitions: reading a suite YAML file, and the registry of named suites."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import SUITES

SummaryOver = Literal["rows", "entries"]
SUMMARY_OVER: tuple[SummaryOver, ...] = ("rows", "entries")


@dataclass(frozen=True)
class SuiteEntry:
    """One task of a suite: its name, its arguments and the breakdown (if any) that makes its rows."""

    task: str
    args: dict[str, str] = field(default_factory=dict)
    rows_by: str | None = None
    """None: one row for the task; ``category`` or a breakdown field (``generator``): one row per value."""
    label: str | None = None
    summary: bool = True
    """Whether its rows count in the suite's mean, std and worst (group rows beside subset rows do not)."""

    @property
    def title(self) -> str:
        """The row label of the entry (its label, else the task and its arguments)."""
        if self.label:
            return self.label
        args = ",".join(f"{k}={v}" for k, v in sorted(self.args.items()))
        return f"{self.task}@{args}" if args else self.task


@dataclass(frozen=True)
class SuiteSpec:
    """A named set of tasks with the metrics its papers report."""

    name: str
    description: str
    metrics: tuple[str, ...]
    entries: tuple[SuiteEntry, ...]
    papers: tuple[str, ...] = ()
    source: str = ""
    entry_summaries: bool = False
    """Whether each entry with ``rows_by`` gets its own mean, std and worst rows after its rows (DDA's
    per-benchmark mean ± std over its generators)."""
    summary_over: SummaryOver = "rows"
    """What the suite's mean, std and worst are taken over: every counted row (``rows``), or one value per
    counted entry (``entries``: an entry's mean over its rows, or its one row; DDA's average and minimum over
    benchmarks)."""


SCALARS = (str, int, float, bool)
"""What a name, an argument value or a list item of a suite file may be (no list or mapping, whose text
would be Python's, and whose YAML aliases could expand without end)."""


def _check_text(where: str, key: str, values: list[Any]) -> None:
    if not all(isinstance(v, SCALARS) for v in values):
        raise SpotfakeError(f"{where}: each item of {key!r} must be text, not a list or mapping")


def _entry(raw: object, where: str) -> SuiteEntry:
    if isinstance(raw, str):
        return SuiteEntry(task=raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("task"), str):
        raise SpotfakeError(
            f"{where}: each entry is a task name or {{task: NAME, args: {{...}}, rows_by: FIELD}}"
        )
    unknown = set(raw) - {"task", "args", "rows_by", "label", "summary"}
    if unknown:
        raise SpotfakeError(
            f"{where}: unknown entry key(s) {', '.join(sorted(unknown))} (task, args, rows_by, label, summary)"
        )
    if not isinstance(raw.get("summary", True), bool):
        raise SpotfakeError(f"{where}: 'summary' of {raw['task']!r} must be true or false")
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise SpotfakeError(f"{where}: 'args' of {raw['task']!r} must be a mapping")
    _check_text(where, "args", [*args, *args.values()])
    rows_by, label = raw.get("rows_by"), raw.get("label")
    for key, value in (("rows_by", rows_by), ("label", label)):
        if value is not None and not isinstance(value, SCALARS):
            raise SpotfakeError(f"{where}: {key!r} of {raw['task']!r} must be text")
    return SuiteEntry(
        task=raw["task"],
        args={str(k): str(v) for k, v in args.items()},
        rows_by=None if rows_by is None else str(rows_by),
        label=None if label is None else str(label),
        summary=raw.get("summary", True),
    )


def parse_suite(data: Any, source: str) -> SuiteSpec:
    """A suite from its YAML data; one line naming ``source`` for anything malformed."""
    if not isinstance(data, dict):
        raise SpotfakeError(f"{source}: a suite file is a mapping with name, metrics and entries")
    missing = [k for k in ("name", "metrics", "entries") if k not in data]
    if missing:
        raise SpotfakeError(f"{source}: missing {', '.join(missing)}")
    metrics, entries = data["metrics"], data["entries"]
    if not isinstance(metrics, list) or not metrics or not isinstance(entries, list) or not entries:
        raise SpotfakeError(f"{source}: 'metrics' and 'entries' must be non-empty lists")
    _check_text(source, "metrics", metrics)
    papers = data.get("papers") or []
    if not isinstance(papers, list):
        raise SpotfakeError(f"{source}: 'papers' must be a list of references")
    _check_text(source, "papers", papers)
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], SCALARS):
            raise SpotfakeError(f"{source}: {key!r} must be text")
    from spotfake.harness.metrics.selection import resolve_metrics

    try:  # groups (detection, explanation, ...) expand like in task files
        metrics = list(resolve_metrics([str(m) for m in metrics], source=source))
    except SpotfakeError as exc:
        raise SpotfakeError(f"{source}: {exc}") from None
    entry_summaries, over = data.get("entry_summaries", False), data.get("summary_over", "rows")
    if not isinstance(entry_summaries, bool):
        raise SpotfakeError(f"{source}: 'entry_summaries' must be true or false")
    if over not in SUMMARY_OVER:
        raise SpotfakeError(
            f"{source}: 'summary_over' must be one of {', '.join(SUMMARY_OVER)}, not {over!r}"
        )
    return SuiteSpec(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        metrics=tuple(str(m) for m in metrics),
        entries=tuple(_entry(e, f"{source} entry {i + 1}") for i, e in enumerate(entries)),
        papers=tuple(str(p) for p in papers),
        source=source,
        entry_summaries=entry_summaries,
        summary_over=cast(SummaryOver, over),
    )


def load_suite_file(path: Path) -> SuiteSpec:
    """Read one suite YAML file (:func:`harness.io.read_yaml`)."""
    from spotfake.harness.io import read_yaml

    return parse_suite(read_yaml(path, "suite file"), str(path))


def register_suite_dir(directory: Path) -> None:
    """Register every ``*.yaml`` suite in ``directory`` (used by the built-in plugin)."""
    for path in sorted(directory.glob("*.yaml")):
        spec = load_suite_file(path)
        SUITES.register(spec.name, spec, description=spec.description)


def get_suite(name: str) -> SuiteSpec:
    """A registered suite, or a suite YAML file given by path."""
    if name.endswith((".yaml", ".yml")):
        if not Path(name).is_file():
            raise SpotfakeError(f"suite file not found: {name}")
        return load_suite_file(Path(name))
    suite: SuiteSpec = SUITES.get(name)
    return suite
