"""Reasoning answers at scoring time: each record's reasoning length and whether its answer was cut.

Both are derived from the response (and the finish reason the model reported) every time a run is
scored, after the verdicts (:mod:`harness.scoring.verdicts`):

- ``reasoning_words``: whitespace-separated words in the answer's reasoning part (``<think>``, the text
  outside ``<answer>``, JSON reasoning keys: :func:`harness.verdict.reasoning.split_answer`); None for an
  answer without one. Words, not characters or tokens, so lengths compare across tokenizers and scripts
  that write words apart.
- ``truncated``: the answer was cut by the token limit before its verdict. True for a ``<think>`` never
  closed with no answer after it, unless the model reported that it stopped by itself
  (``finish_reason="stop"``: then the answer is malformed, not cut); and for an answer that hit the limit
  (``finish_reason="length"``) without a verdict. None for a record without an answer text.

The explanation metrics (ROUGE-L, CSS, BLEU, ...) compare a reasoning answer's reasoning and answer without
their tags: :func:`harness.metrics.record_fields.scored_text` reads them through
:func:`harness.verdict.reasoning.explanation_text` (a plain answer is unchanged); ``response`` always keeps
the model's own text, so fields that read its markup (boxes in a JSON answer) see it.

``results.json['scoring']`` gets ``n_truncated`` and ``reasoning_words`` (count, mean, median, max of the
records that have a reasoning part; null when none has).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from spotfake.harness.types import Record
from spotfake.harness.verdict.reasoning import split_answer

REASONING_UNIT = "words (whitespace-separated) of the reasoning part"


def is_truncated(record: Record) -> bool | None:
    """Whether ``record``'s answer was cut by the token limit before its verdict (see the module docstring)."""
    if record.error is not None or record.response is None:
        return None
    if split_answer(record.response).open_think:
        return record.finish_reason != "stop"
    return record.finish_reason == "length" and record.verdict is None


def mark_reasoning(records: Iterable[Record]) -> dict[str, object]:
    """Set ``reasoning_words`` and ``truncated`` on every record (verdicts already derived); return
    ``{"n_truncated", "reasoning_words"}`` for ``results.json['scoring']``."""
    lengths: list[int] = []
    truncated = 0
    for record in records:
        record.truncated = is_truncated(record)
        text = record.response if record.error is None else None
        record.reasoning_words = split_answer(text).reasoning_words if text is not None else None
        truncated += bool(record.truncated)
        if record.reasoning_words is not None:
            lengths.append(record.reasoning_words)
    summary: dict[str, object] | None = None
    if lengths:
        summary = {
            "unit": REASONING_UNIT,
            "n": len(lengths),
            "mean": statistics.fmean(lengths),
            "median": float(statistics.median(lengths)),
            "max": max(lengths),
        }
    return {"n_truncated": truncated, "reasoning_words": summary}
