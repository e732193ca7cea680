"""The one metric registry: every metric's name, label, direction, what it needs and how it is computed.

A metric is a :class:`MetricDef`. Its ``evaluate(inputs, weights)`` maps a (b, n) matrix of record
weights to b values: a row of ones gives the point estimate, a 0/1 row a breakdown group, a row of
bootstrap draw counts one resample. So point values, per-category values and confidence intervals of
every metric, built-in or plugged in, come from the same function, and nothing is special-cased.

Every metric plugs in through the entry-point group ``spotfake.metrics``, spotfake's own included (its
``builtin`` entry point, loaded first): the entry point names a callable that calls
:func:`register_metric` (and :func:`register_metric_group`), as tasks and models do. The CLI table, task
validation, the leaderboard and ``spotfake report`` read labels and directions from here.

A metric group is a name for an ordered list of metrics (``detection``, ``calibration``,
``explanation``, ...): task YAMLs and ``--metrics`` may name groups wherever they name metrics
(:mod:`harness.metrics.selection`). Metric and group names share one namespace.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.record_fields import RecordField
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.registry import Registry
from spotfake.harness.types import Record

Needs = Literal["verdicts", "labels", "scores", "calibrated", "references", "options"]
"""What a metric needs to have a value:

- ``verdicts``: a verdict and something to be right about (any answer kind);
- ``labels``: real/fake labels (None on multiple-choice tasks);
- ``scores``: p(fake) scores from the model (None for verdict-only models and on choice tasks);
- ``calibrated``: scores and a threshold calibrated on a validation split (``--threshold calibrate=SPLIT``,
  :attr:`MetricInputs.calibrated_threshold`; None without one);
- ``references``: reference explanations (None for models that do not explain);
- ``options``: multiple-choice options (only choice tasks).
"""

Evaluate = Callable[[MetricInputs, FloatArray], FloatArray]
"""``evaluate(inputs, weights)``: weights (b, n) over the records of ``inputs`` -> b values (NaN = undefined)."""


@dataclass(frozen=True)
class MetricDef:
    """A metric: its name, its label in tables, its direction, what it needs, its card and its function."""

    name: str
    label: str
    evaluate: Evaluate
    higher_is_better: bool = True
    needs: Needs = "labels"
    card: str = ""
    """One line: what the value means (the full card is the docstring of the function)."""
    per_sample: str | None = None
    """The Record attribute whose mean it is, when it is one (for paired comparisons), e.g. ``"rouge_l"``."""
    record_fields: tuple[RecordField, ...] = ()
    """Per-record fields that scoring must fill for it (:mod:`harness.metrics.record_fields`)."""
    ranked: bool = True
    """False for a diagnostic a board lists apart and never ranks by (``acc_oracle``: a threshold chosen
    on the test labels)."""

    @property
    def uses(self) -> tuple[str, ...]:
        """The names of its :attr:`record_fields` (``"rouge_l"``, ``"css"``, ``"bleu_stats"``, ...)."""
        return tuple(f.name for f in self.record_fields)

    def applies(self, answer_kind: str) -> bool:
        """Whether the metric can have a value on tasks of ``answer_kind``."""
        if self.needs in ("labels", "scores", "calibrated"):
            return answer_kind != "choice"
        if self.needs == "options":
            return answer_kind == "choice"
        return True


METRICS: Registry[MetricDef] = Registry("metric", "spotfake.metrics")
"""Every metric a task may ask for, by name (built-ins plus ``spotfake.metrics`` plugins)."""


def register_metric(metric: MetricDef, *, replace: bool = False) -> None:
    """Add a metric to the registry (a name registered twice is an error unless ``replace``).

    Its record fields must have storable names and types, and a field another metric declares under the
    same name must be the same field; ``per_sample`` must name a Record attribute; a group may not have
    its name.
    """
    source = f"metric {metric.name!r}"
    if metric.name in GROUPS:
        raise SpotfakeError(f"{source}: a metric group has that name")
    if metric.per_sample is not None and metric.per_sample not in Record.__dataclass_fields__:
        raise SpotfakeError(f"{source}: per_sample {metric.per_sample!r} is not a Record attribute")
    for spec in metric.record_fields:
        spec.check(source)
        for entry in METRICS:
            other = entry.target
            if isinstance(other, MetricDef) and other.name != metric.name:
                clash = next((f for f in other.record_fields if f.name == spec.name), None)
                if clash is not None and clash != spec:
                    raise SpotfakeError(
                        f"{source}: record field {spec.name!r} differs from the one metric {other.name!r} declares"
                    )
    METRICS.register(metric.name, metric, description=metric.card, replace=replace)


@dataclass(frozen=True)
class MetricGroup:
    """A named, ordered list of metric names (task YAMLs and ``--metrics`` may name it)."""

    name: str
    metrics: tuple[str, ...]
    description: str = ""


GROUPS: dict[str, MetricGroup] = {}
"""Every metric group, by name (built-ins plus groups that ``spotfake.metrics`` plugins register)."""


def register_metric_group(
    name: str, metrics: Sequence[str], *, description: str = "", replace: bool = False
) -> None:
    """Add a metric group; its members are checked when it is used (they may come from later plugins)."""
    if name in GROUPS and not replace:
        raise SpotfakeError(f"metric group {name!r} is already registered")
    if name in METRICS:
        raise SpotfakeError(f"metric group {name!r}: a metric has that name")
    if not metrics or isinstance(metrics, str):
        raise SpotfakeError(f"metric group {name!r}: give its metrics as a non-empty list of names")
    GROUPS[name] = MetricGroup(name, tuple(metrics), description)


def metric_group(name: str) -> MetricGroup | None:
    """The group called ``name``, or None (plugins are loaded first)."""
    METRICS.names()  # loads the ``spotfake.metrics`` plugins, which register groups too
    return GROUPS.get(name)


def metric_group_names() -> list[str]:
    """All registered group names, sorted."""
    METRICS.names()
    return sorted(GROUPS)


def unknown_metric(name: str) -> SpotfakeError:
    """The one-line error for a name that is neither a metric nor a group, with the closest names."""
    known = [*metric_names(), *metric_group_names()]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return SpotfakeError(f"unknown metric {name!r}{hint} (metrics and groups: `spotfake list metrics`)")


def metric_def(name: str) -> MetricDef:
    """The metric called ``name``; SpotfakeError with the closest names when it is unknown."""
    return METRICS.get(name)


def metric_names() -> list[str]:
    """All registered metric names, sorted."""
    return METRICS.names()


def iter_metrics() -> Iterator[MetricDef]:
    """All registered metrics, sorted by name."""
    return (entry.load() for entry in METRICS)


QUALIFIER = "@"
"""Joins a metric to what tells its values apart in a table column: ``judge@loki-1a2b3c4d`` is ``judge``
graded under one rubric (:func:`harness.judge.metrics.by_rubric`), never mixed with another's."""


def base_metric(name: str) -> str:
    """The metric a column shows: ``judge@loki-1a2b3c4d`` -> ``judge``; a plain name as it is."""
    return name.split(QUALIFIER, 1)[0]


def metric_label(name: str) -> str:
    """The label tables show for a metric or a count (``unparsed_rate`` -> ``Unparsed``); a qualified
    column adds its qualifier (``judge@loki-1a2b3c4d`` -> ``Judge (loki-1a2b3c4d)``)."""
    base, _, qualifier = name.partition(QUALIFIER)
    if qualifier:
        return f"{metric_label(base)} ({qualifier})"
    if name in COUNT_LABELS:
        return COUNT_LABELS[name]
    return metric_def(name).label if name in METRICS else name.replace("_", " ")


def higher_is_better(name: str) -> bool:
    """The direction of a metric or count (``unparsed_rate`` and error counts: lower is better), of a
    qualified column its metric's."""
    name = base_metric(name)
    if name in COUNT_LABELS:
        return False
    return metric_def(name).higher_is_better if name in METRICS else True


def check_metric_names(names: Sequence[str], source: str = "") -> None:
    """Raise SpotfakeError naming ``source`` for a metric name that no built-in or plugin registers."""
    for name in names:
        if name not in METRICS:
            exc = unknown_metric(name)
            raise SpotfakeError(f"{source}: {exc}" if source else str(exc))


COUNTS = ("n", "n_missing", "n_errors", "n_unparsed", "unparsed_rate", "n_with_reference")
"""Counts reported with every summary (and every breakdown group)."""

COUNT_LABELS = {
    "n_missing": "Missing",
    "n_errors": "Errors",
    "n_unparsed": "Unparsed (n)",
    "unparsed_rate": "Unparsed",
}
"""Labels of the counts that tables show as columns (all lower-is-better)."""
