"""The results contract as Python types: TypedDicts that mirror ``schema/results.schema.json`` one to one.

The JSON Schema is what files are validated against (submissions included); these types are what code
passes around, so mypy checks every producer and consumer of a results dict. A test checks that each
TypedDict has exactly the properties of its schema object, and which keys are required.
"""

from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict

from spotfake.harness.model_kind import ModelKind

MetricValue = float | int | None
MetricValues = dict[str, MetricValue]
"""Counts and metric values by name (None = not applicable or undefined)."""

Breakdowns = dict[str, dict[str, MetricValues]]
"""field -> value -> counts and metric values."""

Source = Literal["reproduced", "reported", "submitted"]
AnswerKindName = Literal["verdict", "yesno", "choice"]


class ModelEntry(TypedDict):
    """``results.json['model']``: who answered."""

    name: str
    kind: ModelKind
    args: NotRequired[dict[str, Any]]
    settings: NotRequired[dict[str, Any]]
    fingerprint: NotRequired[str]
    parameters: NotRequired[int | None]
    parameters_note: NotRequired[str]


class TaskEntry(TypedDict):
    """``results.json['task']``: what was asked, and of which data."""

    name: str
    version: str
    data_fingerprint: NotRequired[str]
    answer_kind: NotRequired[AnswerKindName]
    args: NotRequired[dict[str, str]]
    default_args: NotRequired[dict[str, str]]
    n: NotRequired[int]


class PerturbationStep(TypedDict):
    """One step of an image perturbation chain."""

    name: str
    value: NotRequired[float | None]


class Perturbation(TypedDict):
    """``results.json['perturbation']``: the perturbation applied before the model."""

    spec: str
    slug: str
    steps: list[PerturbationStep]


class ReportedEntry(TypedDict):
    """``results.json['reported']``: a published row's source, and how its F1 was read."""

    citation: str
    table: str
    dataset: str
    notes: str
    f1_positive_class: NotRequired[Literal["real", "fake", "macro", "weighted", "unknown"] | None]
    published_f1: NotRequired[float | None]
    f1_check: NotRequired[str]


class Results(TypedDict):
    """One ``results.json`` (schema v1): one evaluation of one model on one task."""

    schema_version: Literal[1]
    spotfake_version: str
    source: Source
    run_key: NotRequired[str]
    model: ModelEntry
    task: TaskEntry
    metrics: MetricValues
    ci: dict[str, list[float | None]]
    per_category: dict[str, MetricValues]
    breakdowns: Breakdowns
    null_reasons: NotRequired[dict[str, str]]
    verdict_only_floor: NotRequired[dict[str, float | None]]
    scoring: NotRequired[dict[str, Any]]
    settings: NotRequired[dict[str, Any]]
    environment: NotRequired[dict[str, Any]]
    timing: NotRequired[dict[str, Any]]
    perturbation: NotRequired[Perturbation]
    audit: NotRequired[dict[str, Any]]
    reported: NotRequired[ReportedEntry]
    provenance: NotRequired[dict[str, Any]]
    created: str


CONTRACT: dict[str, type] = {
    "": Results,
    "model": ModelEntry,
    "task": TaskEntry,
    "perturbation": Perturbation,
    "reported": ReportedEntry,
}
"""Schema path (``""`` = top level) -> the TypedDict that mirrors that schema object."""
