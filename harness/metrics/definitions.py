"""Sum-based metric definitions: pure functions of per-record column sums (:mod:`harness.metrics.columns`),
so that point estimates, bootstrap resamples and breakdowns all go through the same few lines.

Every function takes ``s``, column sums (``weights @ record_columns(records)``) of any leading shape,
and returns values of that shape (NaN when undefined). The "unknown" rule for unparsed, failed and
missing answers is described in :mod:`harness.metrics.columns`.
"""

from __future__ import annotations

import numpy as np

from spotfake.harness.metrics.columns import (
    BLEU_N,
    BLEU_STATS,
    CORRECT,
    CSS_GATED_SUM,
    CSS_N,
    CSS_SUM,
    FAKE,
    FAKE_AS_FAKE,
    FAKE_AS_REAL,
    LABELED,
    REAL,
    REAL_AS_FAKE,
    REAL_AS_REAL,
    ROUGE_GATED_SUM,
    ROUGE_N,
    ROUGE_SUM,
)
from spotfake.harness.metrics.types import FloatArray


def ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den`` elementwise, NaN (undefined) where ``den`` is not positive."""
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
    return ratio(s[..., CORRECT], s[..., LABELED])


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
    return ratio(2 * tp, 2 * tp + s[..., FAKE_AS_REAL] + (s[..., REAL] - tp))


def f1_fake(s: FloatArray) -> FloatArray:
    """Metric card: f1_fake (F1 with **fake** as the positive class).

    Definition: ``2 TP / (2 TP + FP + FN)`` with TP = fake read as fake, FP = real read as fake,
        FN = fake read as real or unknown. None when there is no fake label and no "fake" verdict.
        Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: van Rijsbergen, "Information Retrieval", 1979.
    """
    tp = s[..., FAKE_AS_FAKE]
    return ratio(2 * tp, 2 * tp + s[..., REAL_AS_FAKE] + (s[..., FAKE] - tp))


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
    recall_real = ratio(s[..., REAL_AS_REAL], s[..., REAL])
    recall_fake = ratio(s[..., FAKE_AS_FAKE], s[..., FAKE])
    both = np.stack([recall_real, recall_fake])
    present = ~np.isnan(both)
    total = np.where(present, both, 0.0).sum(axis=0)
    return ratio(total, present.sum(axis=0).astype(np.float64))


def mean_rouge_l(s: FloatArray) -> FloatArray:
    """Metric card: rouge_l (task level).

    Definition: the mean per-sample ROUGE-L F-measure over the samples that have a reference; failed,
        missing and empty answers count 0. Per-sample card: :mod:`harness.metrics.rouge`.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004.
    """
    return ratio(s[..., ROUGE_SUM], s[..., ROUGE_N])


def mean_css(s: FloatArray) -> FloatArray:
    """Metric card: css (task level).

    Definition: the mean per-sample CSS over the samples that have a reference; failed, missing and
        empty answers count 0. Per-sample card: :mod:`harness.metrics.css`.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: FakeVLM, Wen et al., arXiv 2503.14905; Reimers and Gurevych, Sentence-BERT, 2019.
    """
    return ratio(s[..., CSS_SUM], s[..., CSS_N])


def corpus_bleu4(s: FloatArray) -> FloatArray:
    """Metric card: bleu4 (corpus BLEU-4 over the samples that have a reference); full card in
    :mod:`harness.metrics.bleu`. NaN (None) when no sample has a reference."""
    from spotfake.harness.metrics.bleu import bleu4

    value = bleu4(s[..., BLEU_STATS])
    return np.where(s[..., BLEU_N] > 0, value, np.nan)


def accuracy_real(s: FloatArray) -> FloatArray:
    """Metric card: acc_real (UnivFD's r_acc).

    Definition: share of the **real** samples called real; unknown verdicts are misses. None when the
        set has no real sample. Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Ojha et al., "Towards Universal Fake Image Detectors that Generalize Across Generative
        Models" (UnivFD), CVPR 2023 (real accuracy); Wang et al., CNNSpot, CVPR 2020.
    """
    return ratio(s[..., REAL_AS_REAL], s[..., REAL])


def accuracy_fake(s: FloatArray) -> FloatArray:
    """Metric card: acc_fake (UnivFD's f_acc).

    Definition: share of the **fake** samples called fake; unknown verdicts are misses. None when the
        set has no fake sample. Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Ojha et al., UnivFD, CVPR 2023 (fake accuracy).
    """
    return ratio(s[..., FAKE_AS_FAKE], s[..., FAKE])


def mean_rouge_l_gated(s: FloatArray) -> FloatArray:
    """Metric card: rouge_l_gated (verdict-gated ROUGE-L).

    Definition: the mean per-sample ROUGE-L over the samples that have a reference, where an
        explanation attached to a wrong, unparsed, failed or missing verdict counts **0**. A fluent
        explanation of the wrong call says the opposite of the truth; ungated ROUGE-L still rewards its
        shared words, so this is the figure to compare explanations by. Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: Lin, ROUGE, 2004; gating as in explanation evaluation that scores only correct decisions.
    """
    return ratio(s[..., ROUGE_GATED_SUM], s[..., ROUGE_N])


def mean_css_gated(s: FloatArray) -> FloatArray:
    """Metric card: css_gated (verdict-gated CSS).

    Definition: the mean per-sample CSS over the samples that have a reference, where an explanation
        attached to a wrong, unparsed, failed or missing verdict counts **0**: embeddings of a fluent
        text about the wrong call are close to the reference's (same topic, same words), so ungated CSS
        lets text buy points for a wrong decision. Range [0, 1], higher is better.
    Arguments: ``s``, column sums (``weights @ record_columns(records)``), any leading shape.
    Citation: FakeVLM, arXiv 2503.14905 (CSS); gating by the verdict is spotfake's.
    """
    return ratio(s[..., CSS_GATED_SUM], s[..., CSS_N])
