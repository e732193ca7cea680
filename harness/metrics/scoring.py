"""Fill each record's per-sample metric fields in place: ``correct``, and every record field that the
requested metrics declare (:mod:`harness.metrics.record_fields`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from spotfake.harness.metrics.columns import is_correct
from spotfake.harness.metrics.css import CssScorer
from spotfake.harness.metrics.record_fields import (
    FieldContext,
    fill_fields,
    reference_texts,
    requested_fields,
    scored_text,
)
from spotfake.harness.metrics.registry import check_metric_names, metric_def
from spotfake.harness.types import METRIC_COLUMNS, Record

if TYPE_CHECKING:
    from spotfake.harness.regions.overlap import TruthRoots

__all__ = ["reference_texts", "score_records", "scored_text"]


def score_records(
    records: Sequence[Record],
    references: Mapping[str, Sequence[str]],
    *,
    answer_kind: str,
    metrics: Sequence[str],
    css_scorer: CssScorer | None = None,
    explains: bool = True,
    scorers: Mapping[str, CssScorer] | None = None,
    roots: TruthRoots | None = None,
) -> None:
    """Set ``correct`` and the metrics' record fields on every record (verdicts already parsed).

    ``correct``: for choice tasks ``verdict == answer``, else ``verdict == label``; None without a
    label (answer). Every other per-record value is first cleared (the columns ``rouge_l``, ``css``,
    ``bleu_stats`` and the ``fields`` object), then each field that a requested metric declares is
    computed once over all records (``rouge_l`` and ``rouge_l_gated`` share ``rouge_l``). The built-in
    ones are None for a record without a usable reference (blank strings do not count) and 0.0 for a
    failed or missing answer. With ``css`` requested and no ``css_scorer``, the default
    :class:`CssScorer` is built (only if some record has a reference). ``explains=False`` (a model that
    does not explain, its text a fixed sentence) also caches the responses' embeddings. ``scorers``: other
    embedders by the field that uses them (``css_clip77``: the CLIP text scorer); ``roots``: where the
    records' truth-mask references are resolved (the task's data root and cache).
    """
    check_metric_names(metrics)
    fields = requested_fields([metric_def(name) for name in dict.fromkeys(metrics)])
    for record in records:
        record.correct = is_correct(record, answer_kind)
        for name in METRIC_COLUMNS:
            setattr(record, name, None)
        record.fields = {}
    context = FieldContext(
        records=records,
        references=[reference_texts(references.get(rec.id)) for rec in records],
        answer_kind=answer_kind,
        explains=explains,
        make_css_scorer=None if css_scorer is None else (lambda: css_scorer),
        scorers=dict(scorers or {}),
        roots=roots,
    )
    fill_fields(fields, context)
