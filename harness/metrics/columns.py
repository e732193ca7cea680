"""The per-record column matrix that every sum-based metric is computed from.

Each record becomes one row of indicator and value columns; a set of records weighted by ``w`` (ones, a
bootstrap count vector, or a group mask) is summarised by ``w @ columns``, and every sum-based metric
maps those sums to a value (NaN when undefined). All metric functions accept any leading shape, so one
call evaluates a whole matrix of bootstrap resamples.

The "unknown" rule (verdict, yes/no tasks): a record whose verdict is neither "real" nor "fake" (an
unparsed answer, an error, a missing sample) counts in the class "unknown". It is never correct, it is
a miss (false negative) for its label's class, and it is nobody's false positive. Records without a
label take part in no classification metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.types import Record

# Column indices of the per-record matrix.
LABELED = 0  # the record has a label (choice tasks: a correct option)
CORRECT = 1  # its verdict equals the label (choice: the option)
REAL = 2  # label real
FAKE = 3  # label fake
REAL_AS_REAL = 4  # label real, verdict real  (true positive for "real")
FAKE_AS_REAL = 5  # label fake, verdict real  (false positive for "real")
FAKE_AS_FAKE = 6  # label fake, verdict fake  (true positive for "fake")
REAL_AS_FAKE = 7  # label real, verdict fake  (false positive for "fake")
ROUGE_N = 8  # the record has a ROUGE-L value (it has a reference)
ROUGE_SUM = 9
CSS_N = 10  # the record has a CSS value
CSS_SUM = 11
BLEU_N = 12  # the record has BLEU statistics (it has a reference)
BLEU_STATS = slice(13, 23)  # the ten counts of harness.metrics.bleu.bleu_stats
ROUGE_GATED_SUM = 23  # ROUGE-L where the verdict is right, else 0
CSS_GATED_SUM = 24  # CSS where the verdict is right, else 0
N_COLUMNS = 25


def is_correct(record: Record, answer_kind: str) -> bool | None:
    """Whether the record's verdict is right: the option letter for choice tasks, else the label.

    None when the record has nothing to be right about (no label, or no correct option).
    """
    truth = record.answer if answer_kind == "choice" else record.label
    if truth is None:
        return None
    return record.verdict == truth


def record_columns(records: Sequence[Record], answer_kind: str) -> FloatArray:
    """The (n, N_COLUMNS) float matrix of indicators and values that sum-based metrics use."""
    cols = np.zeros((len(records), N_COLUMNS), dtype=np.float64)
    choice = answer_kind == "choice"
    for i, rec in enumerate(records):
        row = cols[i]
        correct = is_correct(rec, answer_kind)
        if correct is not None:
            row[LABELED] = 1.0
            row[CORRECT] = float(correct)
        if not choice:
            _label_columns(row, rec)
        if rec.rouge_l is not None:
            row[ROUGE_N] = 1.0
            row[ROUGE_SUM] = rec.rouge_l
            row[ROUGE_GATED_SUM] = rec.rouge_l if correct else 0.0
        if rec.css is not None:
            row[CSS_N] = 1.0
            row[CSS_SUM] = rec.css
            row[CSS_GATED_SUM] = rec.css if correct else 0.0
        if rec.bleu_stats is not None:
            row[BLEU_N] = 1.0
            row[BLEU_STATS] = rec.bleu_stats
    return cols


def _label_columns(row: FloatArray, rec: Record) -> None:
    if rec.label == "real":
        row[REAL] = 1.0
        row[REAL_AS_REAL] = float(rec.verdict == "real")
        row[REAL_AS_FAKE] = float(rec.verdict == "fake")
    elif rec.label == "fake":
        row[FAKE] = 1.0
        row[FAKE_AS_FAKE] = float(rec.verdict == "fake")
        row[FAKE_AS_REAL] = float(rec.verdict == "real")
