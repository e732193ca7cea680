"""A suite's tasks loaded for a run: each entry's arguments, and each task's data folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.suites.spec import SuiteSpec
from spotfake.harness.task import LoadedTask


def data_roots(text: str | None) -> tuple[str | None, dict[str, str]]:
    """``--data-root`` for a suite: one folder (holding a folder per task, named like the task) or
    ``task=PATH`` pairs separated by commas; returns ``(folder, {task: path})``."""
    if not text:
        return None, {}
    if "=" not in text:
        return text, {}
    pairs: dict[str, str] = {}
    for part in text.split(","):
        task, sep, path = part.partition("=")
        if not sep or not task.strip() or not path.strip():
            raise SpotfakeError(f"--data-root: expected TASK=PATH pairs or one folder, got {part!r}")
        pairs[task.strip()] = path.strip()
    return None, pairs


def root_for(task: str, folder: str | None, pairs: Mapping[str, str]) -> str | None:
    """The data folder of ``task``: its pair, else ``<folder>/<task>`` when that exists, else the task's own
    default (None)."""
    if task in pairs:
        return pairs[task]
    if folder is not None:
        candidate = Path(folder) / task
        try:
            inside = candidate.is_dir()
        except OSError:  # a folder name the file system refuses: the task's reader says so in one line
            inside = False
        return str(candidate if inside else folder)
    return None


def suite_tasks(spec: SuiteSpec, data_root: str | None, task_args: Mapping[str, str]) -> list[LoadedTask]:
    """Every entry of ``spec`` loaded (entry arguments first, ``--task-args`` on top); errors name the entry."""
    from spotfake.harness.task import load_task

    folder, pairs = data_roots(data_root)
    unknown = set(pairs) - {e.task for e in spec.entries}
    if unknown:
        raise SpotfakeError(
            f"--data-root names {', '.join(sorted(unknown))}, not in suite {spec.name!r} "
            f"({', '.join(dict.fromkeys(e.task for e in spec.entries))})"
        )
    loaded = []
    for entry in spec.entries:
        try:
            task = load_task(entry.task, root_for(entry.task, folder, pairs), {**entry.args, **task_args})
        except SpotfakeError as exc:
            raise SpotfakeError(f"suite {spec.name!r}, {entry.title}: {exc}") from None
        loaded.append(with_suite_metrics(task, spec))
    return loaded


def with_suite_metrics(task: LoadedTask, spec: SuiteSpec) -> LoadedTask:
    """``task`` also computing the suite's metrics that its own list lacks (those that apply to its answer
    kind), so every column of the suite's table has a value where the task can give one."""
    from spotfake.harness.metrics import metric_def
    from spotfake.harness.task import choose_metrics

    kind = task.spec.answer_kind
    extra = [m for m in spec.metrics if m not in task.spec.metrics and metric_def(m).applies(kind)]
    return choose_metrics(task, ",".join(f"+{m}" for m in extra)) if extra else task
