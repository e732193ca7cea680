"""Metric definitions as pure functions of per-record column sums, so that point estimates, bootstrap
resamples and breakdowns all go through the same few lines.

Each record becomes one row of indicator and value columns (:func:`record_columns`); a set of records
weighted by ``w`` (ones, a bootstrap count vector, or a group mask) is summarised by ``w @ columns``;
every metric below maps those sums to a value (NaN when undefined). All functions accept any leading
shape, so one call evaluates a whole matrix of bootstrap resamples.

The "unknown" rule (verdict, yes/no tasks): a record whose verdict is neither "real" nor "fake" (an
unparsed answer, an error, a missing sample) counts in the class "unknown". It is never correct, it is
a miss (false negative) for its label's class, and it is nobody's false positive. Records without a
label take part in no classification metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.errors import SpotfakeError
from harness.metrics.types import FloatArray
from harness.types import Record

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
N_COLUMNS = 23


def is_correct(record: Record, answer_kind: str) -> bool | None:
    """Whether the record's verdict is right: the option letter for choice tasks, else the label.

    None when the record has nothing to be right about (no label, or no correct option).
    """
    truth = record.answer if answer_kind == "choice" else record.label
    if truth is None:
        return None
    return record.verdict == truth


def record_columns(records: Sequence[Record], answer_kind: str) -> FloatArray:
    """The (n, N_COLUMNS) float matrix of indicators and values that every metric is computed from."""
    cols = np.zeros((len(records), N_COLUMNS), dtype=np.float64)
    choice = answer_kind == "choice"
    for i, rec in enumerate(records):
        row = cols[i]
        correct = is_correct(rec, answer_kind)
        if correct is not None:
            row[LABELED] = 1.0
            row[CORRECT] = float(correct)
        if not choice:
            if rec.label == "real":
                row[REAL] = 1.0
                row[REAL_AS_REAL] = float(rec.verdict == "real")
                row[REAL_AS_FAKE] = float(rec.verdict == "fake")
            elif rec.label == "fake":
                row[FAKE] = 1.0
                row[FAKE_AS_FAKE] = float(rec.verdict == "fake")
                row[FAKE_AS_REAL] = float(rec.verdict == "real")
        if rec.rouge_l is not None:
            row[ROUGE_N] = 1.0
            row[ROUGE_SUM] = rec.rouge_l
        if rec.css is not None:
            row[CSS_N] = 1.0
            row[CSS_SUM] = rec.css
        if rec.bleu_stats is not None:
            row[BLEU_N] = 1.0
            row[BLEU_STATS] = rec.bleu_stats
    return cols


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def accuracy(s: FloatArray) -> FloatArray:
    """Metric card: acc.

    Definition: share of labelled samples whose verdict is right, ``correct / labelled``. Unparsed,
        failed and missing answers are the class "unknown" and count as wrong; for choice tasks, right
        means the correct option letter. Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: standard accuracy, as reported by FakeVLM (Wen et al., arXiv 2503.14905), whose released
        evaluation, unlike this one, guesses at random when it cannot read an answer.
    """
    return _ratio(s[..., CORRECT], s[..., LABELED])


def f1_real(s: FloatArray) -> FloatArray:
    """Metric card: f1 (F1 with **real** as the positive class).

    Definition: ``2 TP / (2 TP + FP + FN)`` with TP = real read as real, FP = fake read as real,
        FN = real read as fake *or unknown*. None when there is no real label and no "real" verdict.
        This convention reproduces FakeVLM's table (0.986 acc / 0.981 F1 on FakeClue). Range [0, 1],
        higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: van Rijsbergen, "Information Retrieval", 1979; FakeVLM, arXiv 2503.14905 (table 2).
    """
    tp = s[..., REAL_AS_REAL]
    return _ratio(2 * tp, 2 * tp + s[..., FAKE_AS_REAL] + (s[..., REAL] - tp))


def f1_fake(s: FloatArray) -> FloatArray:
    """Metric card: f1_fake (F1 with **fake** as the positive class).

    Definition: ``2 TP / (2 TP + FP + FN)`` with TP = fake read as fake, FP = real read as fake,
        FN = fake read as real or unknown. None when there is no fake label and no "fake" verdict.
        Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: van Rijsbergen, "Information Retrieval", 1979.
    """
    tp = s[..., FAKE_AS_FAKE]
    return _ratio(2 * tp, 2 * tp + s[..., REAL_AS_FAKE] + (s[..., FAKE] - tp))


def f1_macro(s: FloatArray) -> FloatArray:
    """Metric card: f1_macro.

    Definition: the mean of ``f1`` (real positive) and ``f1_fake``; None when either is None.
        Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: macro averaging as in scikit-learn's ``f1_score(average="macro")`` over the two labels.
    """
    return (f1_real(s) + f1_fake(s)) / 2


def balanced_accuracy(s: FloatArray) -> FloatArray:
    """Metric card: balanced_acc.

    Definition: the mean of the recall of real and the recall of fake, over the classes present (as
        scikit-learn's ``balanced_accuracy_score``); unknown verdicts are misses. Range [0, 1]; a
        constant answer scores 0.5; higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Brodersen et al., "The balanced accuracy and its posterior distribution", ICPR 2010.
    """
    recall_real = _ratio(s[..., REAL_AS_REAL], s[..., REAL])
    recall_fake = _ratio(s[..., FAKE_AS_FAKE], s[..., FAKE])
    both = np.stack([recall_real, recall_fake])
    present = ~np.isnan(both)
    total = np.where(present, both, 0.0).sum(axis=0)
    return _ratio(total, present.sum(axis=0).astype(np.float64))


def mean_rouge_l(s: FloatArray) -> FloatArray:
    """Metric card: rouge_l (task level).

    Definition: the mean per-sample ROUGE-L F-measure over the samples that have a reference; failed,
        missing and empty answers count 0. Per-sample card: :mod:`harness.metrics.rouge`.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004.
    """
    return _ratio(s[..., ROUGE_SUM], s[..., ROUGE_N])


def mean_css(s: FloatArray) -> FloatArray:
    """Metric card: css (task level).

    Definition: the mean per-sample CSS over the samples that have a reference; failed, missing and
        empty answers count 0. Per-sample card: :mod:`harness.metrics.css`.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: FakeVLM, Wen et al., arXiv 2503.14905; Reimers and Gurevych, Sentence-BERT, 2019.
    """
    return _ratio(s[..., CSS_SUM], s[..., CSS_N])


def corpus_bleu4(s: FloatArray) -> FloatArray:
    """Metric card: bleu4 (corpus BLEU-4 over the samples that have a reference); full card in
    :mod:`harness.metrics.bleu`. NaN (None) when no sample has a reference."""
    from harness.metrics.bleu import bleu4

    value = bleu4(s[..., BLEU_STATS])
    return np.where(s[..., BLEU_N] > 0, value, np.nan)


@dataclass(frozen=True)
class MetricDef:
    """A metric's name, the function of column sums that computes it, and what it applies to."""

    name: str
    fn: Callable[[FloatArray], FloatArray] | None
    higher_is_better: bool = True
    classification: bool = True
    """True when it needs real/fake labels (hence None for choice tasks)."""


METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef("acc", accuracy, classification=False),
        MetricDef("f1", f1_real),
        MetricDef("f1_fake", f1_fake),
        MetricDef("f1_macro", f1_macro),
        MetricDef("balanced_acc", balanced_accuracy),
        MetricDef("auc", None),  # rank-based: see harness.metrics.auc
        MetricDef("rouge_l", mean_rouge_l, classification=False),
        MetricDef("css", mean_css, classification=False),
        MetricDef("bleu4", corpus_bleu4, classification=False),
    )
}
"""Every metric a task may ask for, by name."""

COUNTS = ("n", "n_missing", "n_errors", "n_unparsed", "unparsed_rate", "n_with_reference")
"""Counts reported with every summary (and every breakdown group)."""


def check_metric_names(names: Sequence[str]) -> None:
    """Raise SpotfakeError for a metric name spotfake does not know, suggesting the closest one."""
    import difflib

    for name in names:
        if name not in METRICS:
            close = difflib.get_close_matches(name, list(METRICS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpotfakeError(f"unknown metric {name!r} (known: {', '.join(METRICS)}){hint}")
