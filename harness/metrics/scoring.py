"""Fill each record's per-sample metric fields (``correct``, ``rouge_l``, ``css``, ``bleu_stats``) in place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spotfake.harness.metrics.bleu import bleu_stats
from spotfake.harness.metrics.columns import is_correct
from spotfake.harness.metrics.css import CssScorer
from spotfake.harness.metrics.registry import check_metric_names, metric_def
from spotfake.harness.metrics.rouge import rouge_l_scores
from spotfake.harness.types import Record


def reference_texts(refs: Sequence[str] | str | None) -> tuple[str, ...]:
    """The usable reference texts of one sample: blank strings dropped; a bare string is one reference."""
    if refs is None:
        return ()
    if isinstance(refs, str):
        refs = (refs,)
    return tuple(r for r in refs if isinstance(r, str) and r.strip())


def scored_text(record: Record) -> str:
    """The text that explanation metrics compare with the reference: "" for a failed or missing answer."""
    if record.error is not None or record.response is None:
        return ""
    return record.response


def score_records(
    records: Sequence[Record],
    references: Mapping[str, Sequence[str]],
    *,
    answer_kind: str,
    metrics: Sequence[str],
    css_scorer: CssScorer | None = None,
) -> None:
    """Set ``correct``, ``rouge_l``, ``css``, ``bleu_stats`` on every record (verdicts already parsed).

    ``correct``: for choice tasks ``verdict == answer``, else ``verdict == label``; None without a
    label (answer). ``rouge_l`` / ``css``: only when a requested metric uses them (its ``uses``, e.g.
    ``rouge_l`` and ``rouge_l_gated`` both use ``rouge_l``) and the record's id has a
    reference (blank reference strings do not count), else None; a record with an error or no response
    text scores 0.0. All ROUGE-L and all CSS work is done in one batch each. With ``css`` requested and
    no ``css_scorer``, the default :class:`CssScorer` is built (only if some record has a reference).
    """
    check_metric_names(metrics)
    fields = {f for name in metrics for f in metric_def(name).uses}
    for record in records:
        record.correct = is_correct(record, answer_kind)
        record.rouge_l = None
        record.css = None
        record.bleu_stats = None
    with_refs = [(rec, refs) for rec in records if (refs := reference_texts(references.get(rec.id)))]
    if not with_refs:
        return
    texts = [scored_text(rec) for rec, _ in with_refs]
    refs_lists = [refs for _, refs in with_refs]
    if "rouge_l" in fields:
        for (rec, _), value in zip(with_refs, rouge_l_scores(texts, refs_lists), strict=True):
            rec.rouge_l = value
    if "bleu_stats" in fields:
        for (rec, refs), text in zip(with_refs, texts, strict=True):
            rec.bleu_stats = bleu_stats(text, refs)
    if "css" in fields:
        scorer = css_scorer if css_scorer is not None else CssScorer()
        for (rec, _), value in zip(with_refs, scorer.score(texts, refs_lists), strict=True):
            rec.css = value
