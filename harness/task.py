"""Task definitions (small YAML files) and loading a task's samples through its reader."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import TASKS, import_object
from spotfake.harness.types import AnswerKind, Sample

DEFAULT_METRICS = ("detection", "calibration", "explanation")
"""The metric groups of a task definition that lists no ``metrics``."""


@dataclass(frozen=True)
class TaskSpec:
    """A task definition, read from YAML.

    ``reader`` is a ``"module:function"`` string; the function has the signature of :data:`Reader`.
    ``args`` are the reader's defaults (split, image folder, ...) that ``--task-args`` may override.
    ``breakdowns`` are metadata fields that results are broken down by, besides ``category``.
    ``held_out`` names, per breakdown field, the values never seen in training (e.g. ``generator: [ddpm]``),
    so that views can tell seen and held-out generators apart.
    ``metrics`` may name metric groups (``[detection, calibration, explanation]``,
    :mod:`harness.metrics.selection`); the spec holds the resolved metric names, in order.
    """

    name: str
    version: str
    description: str
    reader: str
    answer_kind: AnswerKind = "verdict"
    prompt: str | None = None
    metrics: tuple[str, ...] = DEFAULT_METRICS
    breakdowns: tuple[str, ...] = ()
    held_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    args: Mapping[str, Any] = field(default_factory=dict)
    default_data_root: str | None = None
    citation: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        from spotfake.harness.metrics.selection import resolve_metrics

        where = self.source or self.name
        object.__setattr__(self, "metrics", resolve_metrics(self.metrics, source=where))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "") -> TaskSpec:
        """Build a spec from parsed YAML; missing or unknown keys are a clear error naming ``source``."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise SpotfakeError(
                f"{source}: unknown keys {sorted(unknown)} in task definition (known: {sorted(known)})"
            )
        for key in ("name", "version", "description", "reader"):
            if key not in data:
                raise SpotfakeError(f"{source}: task definition lacks {key!r}")
        texts = ("name", "description", "reader", "citation", "prompt", "default_data_root")
        wrong = [f"{k} must be text" for k in texts if not isinstance(data.get(k, ""), (str, type(None)))]
        if "breakdowns" in data and not _is_text_list(data["breakdowns"]):
            wrong.append("breakdowns must be a list of field names")
        if not isinstance(data.get("args", {}), Mapping):
            wrong.append("args must be a mapping of reader arguments")
        if not wrong and ":" not in data["reader"]:
            wrong.append(f"reader must be 'module:function', got {data['reader']!r}")
        if wrong:
            raise SpotfakeError(f"{source}: {'; '.join(wrong)}")
        values = dict(data)
        values["version"] = str(values["version"])
        for key in ("metrics", "breakdowns"):
            if key in values:
                values[key] = tuple(values[key])
        values["source"] = source
        if "held_out" in values:
            values["held_out"] = _held_out(values["held_out"], source)
        if "metrics" in values and not isinstance(data["metrics"], list):
            raise SpotfakeError(f"{source}: metrics must be a list of metric and group names")
        return cls(**values)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _held_out(value: Any, source: str) -> dict[str, tuple[str, ...]]:
    """``{field: [value, ...]}`` from YAML, or a one-line error naming ``source``."""
    ok = isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in value.items()
    )
    if not ok:
        raise SpotfakeError(f"{source}: held_out must map a breakdown field to a list of values")
    return {k: tuple(v) for k, v in value.items()}


@dataclass
class TaskData:
    """What a reader returns: the samples, and the annotation files that define them (fingerprinted)."""

    samples: list[Sample]
    files: list[Path] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


Reader = Callable[[TaskSpec, "Path | None", dict[str, Any]], TaskData]
"""``reader(spec, data_root, args) -> TaskData``; raises SpotfakeError for missing or malformed files."""


@dataclass
class LoadedTask:
    """A task with its samples and fingerprint, ready for the runner."""

    spec: TaskSpec
    samples: list[Sample]
    data_fingerprint: str
    data_root: Path | None
    args: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)
    metrics_requested: str | None = None
    """The ``--metrics`` expression that chose ``spec.metrics`` (None: the task's own list)."""

    @property
    def name(self) -> str:
        return self.spec.name


def with_metrics(spec: TaskSpec, expression: str | None) -> TaskSpec:
    """``spec`` with its metrics chosen by a ``--metrics`` expression (:mod:`harness.metrics.selection`:
    ``+name`` adds, ``-name`` removes, a plain list replaces; groups allowed); ``spec`` itself without one."""
    if not expression:
        return spec
    from spotfake.harness.metrics.selection import resolve_metrics

    chosen = resolve_metrics(expression, spec.metrics, source=f"--metrics for task {spec.name}")
    return dataclasses.replace(spec, metrics=chosen)


def choose_metrics(task: LoadedTask, expression: str | None) -> LoadedTask:
    """A loaded task whose ``spec.metrics`` a ``--metrics`` expression chose (:func:`with_metrics`), with
    the expression kept in ``metrics_requested``; ``task`` itself without one."""
    if not expression:
        return task
    return dataclasses.replace(task, spec=with_metrics(task.spec, expression), metrics_requested=expression)


def load_spec_file(path: Path) -> TaskSpec:
    """Read one task YAML file (:func:`harness.io.read_yaml`: UTF-8, small, one line for anything else)."""
    from spotfake.harness.io import read_yaml

    data = read_yaml(path, "task definition")
    if not isinstance(data, dict):
        raise SpotfakeError(f"{path}: a task definition must be a YAML mapping")
    return TaskSpec.from_mapping(data, source=str(path))


def register_task_dir(directory: Path) -> None:
    """Register every ``*.yaml`` task definition in ``directory`` (used by the built-in plugin)."""
    for path in sorted(directory.glob("*.yaml")):
        spec = load_spec_file(path)
        TASKS.register(spec.name, spec, description=spec.description)


def fingerprint_files(paths: list[Path]) -> str:
    """sha256 over the files' names and bytes, short; stable across machines."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def parse_task_args(text: str | None) -> dict[str, str]:
    """Parse ``--task-args key=value,key=value``."""
    from spotfake.harness.model import parse_model_args

    try:
        return parse_model_args(text)
    except SpotfakeError as exc:
        raise SpotfakeError(str(exc).replace("--model-args", "--task-args")) from None


def load_task(
    name: str,
    data_root: str | Path | None = None,
    task_args: dict[str, Any] | None = None,
    *,
    metrics: str | None = None,
) -> LoadedTask:
    """Resolve ``name`` (a registered task, or a path to a task YAML file), run its reader and fingerprint
    its annotation files. ``metrics`` (a ``--metrics`` expression) changes the spec's metric list before
    any data is read (:func:`with_metrics`)."""
    spec: TaskSpec
    if name.endswith((".yaml", ".yml")):
        if not Path(name).is_file():
            raise SpotfakeError(f"task file not found: {name}")
        spec = load_spec_file(Path(name))
    else:
        spec = TASKS.get(name)
    spec = with_metrics(spec, metrics)
    args = {**spec.args, **(task_args or {})}
    from spotfake.harness.verdict.published import PARSER_ARGS, check_parser_args

    check_parser_args(spec.name, spec.answer_kind, args)  # before any data is read or model built
    from spotfake.harness.align import ALIGN_ARGS, check_align_args

    check_align_args(spec.name, args)
    root: Path | None
    if data_root is not None:
        root = Path(data_root)
    elif spec.default_data_root is not None:
        root = resolve_package_path(spec.default_data_root)
    else:
        root = None
    reader: Reader = import_object(spec.reader)
    data = reader(spec, root, {k: v for k, v in args.items() if k not in PARSER_ARGS + ALIGN_ARGS})
    ids = [s.id for s in data.samples]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise SpotfakeError(f"task {name}: duplicate sample id {dup!r} in {spec.source}")
    fingerprint = fingerprint_files(data.files) if data.files else "none"
    return LoadedTask(spec, data.samples, fingerprint, root, args, data.notes, metrics or None)


def resolve_package_path(target: str) -> Path:
    """``"package:relative/path"`` -> a path inside an installed package; a plain path is returned as is."""
    if ":" not in target:
        return Path(target)
    package, _, rel = target.partition(":")
    module = import_object(package)
    base = Path(module.__file__).parent
    return base / rel
