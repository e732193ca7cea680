"""Per-record metric fields: what a metric needs stored on each record, and how scoring fills it.

A metric declares the fields it needs in :attr:`MetricDef.record_fields`, each a :class:`RecordField`:
its name, its JSON type and a ``compute(context)`` that returns one value per record from a
:class:`FieldContext` (the records, their references, the answer kind, the CSS embedder on demand).
Scoring (:func:`harness.metrics.score_records`) fills every field the requested metrics declare, once per
field name, checks each value against the declared type, and the metrics read them back with
:meth:`harness.types.Record.metric_field`. The built-in fields ``rouge_l``, ``css`` and ``bleu_stats``
are columns of the record; every other field is stored under the record's ``fields`` object in
``samples.jsonl`` (schema: ``harness/schema/record.schema.json``), so re-scoring a saved run fills it again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.record_json import FIELD_NAME
from spotfake.harness.types import METRIC_COLUMNS, Record

if TYPE_CHECKING:
    from spotfake.harness.metrics.css import CssScorer
    from spotfake.harness.regions.overlap import TruthRoots

FieldType = Literal["number", "numbers", "boolean", "string"]
"""A field's JSON type: a finite number, an array of finite numbers, true/false or a string (each may be
null: no value for that record)."""

FieldValue = float | list[float] | bool | str | None

FIELD_TYPES: tuple[str, ...] = ("number", "numbers", "boolean", "string")

RESERVED = frozenset(Record.__dataclass_fields__) - set(METRIC_COLUMNS)
"""Record attributes a metric field may not be called (its id, label, response, verdict, ...)."""


def reference_texts(refs: Sequence[str] | str | None) -> tuple[str, ...]:
    """The usable reference texts of one sample: blank strings dropped; a bare string is one reference."""
    if refs is None:
        return ()
    if isinstance(refs, str):
        refs = (refs,)
    return tuple(r for r in refs if isinstance(r, str) and r.strip())


def scored_text(record: Record) -> str:
    """The text that explanation metrics compare with the reference: the answer's explanation (a
    reasoning answer without its tags, :func:`harness.verdict.reasoning.explanation_text`; a plain answer
    as it is), "" for a failed or missing answer."""
    from spotfake.harness.verdict.reasoning import explanation_text

    if record.error is not None or record.response is None:
        return ""
    return explanation_text(record.response)


@dataclass
class FieldContext:
    """What a field's ``compute`` gets: the records of one task, in order, and what they are scored against.

    ``references[i]`` holds the usable reference texts of ``records[i]`` (empty when it has none);
    ``explains`` is False for models that do not explain (their text is one fixed sentence, so what is
    computed from it may be cached); :meth:`css_scorer` gives the run's CSS embedder, built on first use;
    ``scorers`` holds other embedders that scoring built from its options, by the field that uses them
    (``css_clip77``: the CLIP text scorer); a field missing its scorer raises. ``roots`` resolve the
    truth-mask references of the records' metadata (:class:`harness.regions.overlap.TruthRoots`; None:
    as they are).
    """

    records: Sequence[Record]
    references: Sequence[tuple[str, ...]]
    answer_kind: str
    explains: bool = True
    make_css_scorer: Callable[[], CssScorer] | None = None
    scorers: Mapping[str, CssScorer] = field(default_factory=dict)
    roots: TruthRoots | None = None
    _scorer: CssScorer | None = field(default=None, init=False, repr=False)

    @cached_property
    def texts(self) -> list[str]:
        """Each record's scored text (:func:`scored_text`)."""
        return [scored_text(r) for r in self.records]

    @cached_property
    def with_references(self) -> list[int]:
        """Indices of the records that have at least one usable reference."""
        return [i for i, refs in enumerate(self.references) if refs]

    def css_scorer(self) -> CssScorer:
        """The CSS embedder of this scoring (the one given, else the default, built once)."""
        if self._scorer is None:
            if self.make_css_scorer is not None:
                self._scorer = self.make_css_scorer()
            else:
                from spotfake.harness.metrics.css import CssScorer

                self._scorer = CssScorer()
        return self._scorer


Compute = Callable[[FieldContext], Sequence[FieldValue]]
"""``compute(context)`` -> one value per record of ``context.records`` (None: no value for that record)."""


@dataclass(frozen=True)
class RecordField:
    """A per-record value that scoring stores on each record for the metrics that declare it."""

    name: str
    type: FieldType
    compute: Compute
    description: str = ""

    def check(self, source: str) -> None:
        """Raise SpotfakeError naming ``source`` when the name or the type cannot be stored."""
        if not FIELD_NAME.fullmatch(self.name):
            raise SpotfakeError(
                f"{source}: record field {self.name!r} must match [a-z][a-z0-9_]* (64 at most)"
            )
        if self.name in RESERVED:
            raise SpotfakeError(
                f"{source}: record field {self.name!r} is a record attribute; choose another name"
            )
        if self.type not in FIELD_TYPES:
            raise SpotfakeError(
                f"{source}: record field {self.name!r} has type {self.type!r}; use one of {FIELD_TYPES}"
            )


def per_record(fn: Callable[[Record, tuple[str, ...]], FieldValue]) -> Compute:
    """A field's ``compute`` from ``fn(record, references)``, called once for every record."""

    def compute(context: FieldContext) -> list[FieldValue]:
        return [fn(rec, refs) for rec, refs in zip(context.records, context.references, strict=True)]

    compute.__doc__ = fn.__doc__
    return compute


def spread(context: FieldContext, values: Sequence[FieldValue]) -> list[FieldValue]:
    """Values of the records with a reference (``context.with_references``) at their rows; None elsewhere."""
    out: list[FieldValue] = [None] * len(context.records)
    for i, value in zip(context.with_references, values, strict=True):
        out[i] = value
    return out


def per_reference(fn: Callable[[str, tuple[str, ...]], FieldValue]) -> Compute:
    """A field's ``compute`` from ``fn(text, references)``, called for every record with a reference (its
    scored text and its references); None for the others."""

    def compute(context: FieldContext) -> list[FieldValue]:
        rows = context.with_references
        return spread(context, [fn(context.texts[i], context.references[i]) for i in rows])

    compute.__doc__ = fn.__doc__
    return compute


def _checked(spec: RecordField, value: object, sample: str) -> FieldValue:
    """``value`` as its declared type, or a SpotfakeError naming the field and the sample."""
    if value is None:
        return None
    kind = spec.type
    finite = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )
    if kind == "number" and finite and math.isfinite(float(value)):  # type: ignore[arg-type]
        return float(value)  # type: ignore[arg-type]
    if kind == "numbers" and isinstance(value, (list, tuple, np.ndarray)):
        numbers = [float(v) for v in value]
        if all(math.isfinite(v) for v in numbers):
            return numbers
    if kind == "boolean" and isinstance(value, (bool, np.bool_)):
        return bool(value)
    if kind == "string" and isinstance(value, str):
        return value
    raise SpotfakeError(
        f"record field {spec.name!r} ({kind}) of sample {sample[:120]!r}: its compute returned "
        f"{type(value).__name__} {str(value)[:40]!r}; return a {kind} or None"
    )


def fill_fields(fields: Sequence[RecordField], context: FieldContext) -> None:
    """Compute each field over ``context.records`` and store the checked values on the records."""
    records = context.records
    for spec in fields:
        values = list(spec.compute(context))
        if len(values) != len(records):
            raise SpotfakeError(
                f"record field {spec.name!r}: its compute returned {len(values)} values for {len(records)} records"
            )
        for rec, value in zip(records, values, strict=True):
            rec.set_metric_field(spec.name, _checked(spec, value, rec.id))


def mean_of_field(name: str) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    """A metric's ``evaluate``: the weighted mean of a number field over the records that have a value."""

    def evaluate(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        values = inputs.number_field(name)
        present = np.isfinite(values)
        w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        total = w @ np.where(present, values, 0.0)
        count = w @ present.astype(np.float64)
        return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)

    evaluate.__doc__ = f"Mean of the per-record field {name!r} over the records that have a value."
    return evaluate


def requested_fields(defs: Sequence[Any]) -> list[RecordField]:
    """The record fields the metric definitions ``defs`` declare, each name once, in order."""
    found: dict[str, RecordField] = {}
    for metric in defs:
        for spec in metric.record_fields:
            found.setdefault(spec.name, spec)
    return list(found.values())
