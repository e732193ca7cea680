"""The built-in per-record fields of the explanation metrics: ``rouge_l``, ``css`` and ``bleu_stats``.

Each is a :class:`~harness.metrics.record_fields.RecordField` that the explanation metrics declare
(``rouge_l`` and ``rouge_l_gated`` both declare :data:`ROUGE_L`, so it is computed once). A record with a
usable reference gets a value (a failed or missing answer scores as empty text: 0); a record without
one gets None. All records of a task are scored in one batch per field.
"""

from __future__ import annotations

from spotfake.harness.metrics.bleu import bleu_stats
from spotfake.harness.metrics.record_fields import (
    FieldContext,
    FieldValue,
    RecordField,
    per_reference,
    spread,
)
from spotfake.harness.metrics.rouge import rouge_l_scores


def _rouge_l(context: FieldContext) -> list[FieldValue]:
    rows = context.with_references
    texts = [context.texts[i] for i in rows]
    return spread(context, list(rouge_l_scores(texts, [context.references[i] for i in rows])))


def _css(context: FieldContext) -> list[FieldValue]:
    rows = context.with_references
    if not rows:
        return [None] * len(context.records)
    texts = [context.texts[i] for i in rows]
    refs = [context.references[i] for i in rows]
    scores = context.css_scorer().score(texts, refs, cache_responses=not context.explains)
    return spread(context, list(scores))


ROUGE_L = RecordField(
    "rouge_l", "number", _rouge_l, "ROUGE-L F of the response against its reference(s) (max over them)"
)
CSS = RecordField(
    "css", "number", _css, "cosine similarity of response and reference embeddings (max over references)"
)
BLEU_STATS = RecordField(
    "bleu_stats", "numbers", per_reference(bleu_stats), "the ten n-gram counts corpus BLEU-4 sums"
)
