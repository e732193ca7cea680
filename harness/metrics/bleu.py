"""Corpus BLEU-n from per-sample n-gram counts: BLEU-4 as DD-VQA's paper reports it, and BLEU-1.

Metric cards: bleu4, bleu1.
Definition: corpus-level BLEU-n (Papineni et al. 2002): the brevity penalty times the geometric mean of
    the modified (clipped, max over references) 1- to n-gram precisions (weights 1/n), each precision
    pooled over all samples that have a reference; no smoothing, so a corpus with no matching n-gram scores
    0. Tokens are lower-cased words and numbers (``[a-z0-9]+('[a-z]+)?``), punctuation dropped. The
    brevity penalty uses the reference length closest to each response. Failed, missing and empty answers
    contribute no match, no length, and (as in nltk) one unmatched n-gram of each order. Range [0, 1],
    higher is better. Each BLEU-n equals ``nltk.translate.bleu_score.corpus_bleu`` with weights
    ``(1/n,) * n`` on the same tokens (which returns a tiny float instead of 0 when nothing matches).
    M2F2-Det's mean of BLEU-1..4 counts differently: ``bleu_mean14`` (:mod:`harness.metrics.coco_bleu`).
Arguments: per-sample counts from :func:`bleu_stats`; the corpus value from their sums (:func:`bleu_n`),
    so bootstrap resamples and breakdowns reuse the same column-sum machinery as every other metric.
Citation: Papineni, Roukos, Ward and Zhu, "BLEU: a Method for Automatic Evaluation of Machine
    Translation", ACL 2002; reported for DD-VQA by Zhang et al., "Common Sense Reasoning for Deepfake
    Detection", ECCV 2024.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from spotfake.harness.metrics.types import FloatArray

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
N_STATS = 10
"""matches for n = 1..4, totals for n = 1..4, response length, closest reference length."""


def bleu_tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens; punctuation is dropped."""
    return TOKEN.findall(text.lower())


def bleu_stats(response: str, references: Sequence[str]) -> list[float]:
    """The ten counts one sample contributes to corpus BLEU-4 (see :data:`N_STATS`)."""
    from nltk.translate.bleu_score import closest_ref_length, modified_precision

    hyp = bleu_tokens(response)
    refs = [bleu_tokens(r) for r in references]
    stats = [0.0] * N_STATS
    for n in range(1, 5):
        precision = modified_precision(refs, hyp, n)  # as nltk: an empty response counts 1 unmatched n-gram
        stats[n - 1] = float(precision.numerator)
        stats[3 + n] = float(precision.denominator)
    stats[8] = float(len(hyp))
    stats[9] = float(closest_ref_length(refs, len(hyp)))
    return stats


def bleu_n(sums: FloatArray, order: int) -> FloatArray:
    """Corpus BLEU-``order`` (1 to 4) from summed :func:`bleu_stats` (last axis of length 10); any
    leading shape."""
    if not 1 <= order <= 4:
        raise ValueError(f"BLEU order must be 1 to 4, got {order}")
    matches, totals = sums[..., 0:order], sums[..., 4 : 4 + order]
    hyp_len, ref_len = sums[..., 8], sums[..., 9]
    out = np.zeros(hyp_len.shape)
    ok = (hyp_len > 0) & np.all(matches > 0, axis=-1)
    if np.any(ok):
        log_p = np.log(np.where(ok[..., None], matches, 1.0) / np.where(ok[..., None], totals, 1.0)).mean(
            axis=-1
        )
        with np.errstate(divide="ignore", over="ignore"):
            brevity = np.where(hyp_len > ref_len, 1.0, np.exp(1.0 - ref_len / np.where(ok, hyp_len, 1.0)))
        out = np.where(ok, brevity * np.exp(log_p), 0.0)
    return out


def bleu4(sums: FloatArray) -> FloatArray:
    """Corpus BLEU-4 from summed :func:`bleu_stats`; any leading shape."""
    return bleu_n(sums, 4)


def corpus_bleu4(responses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 of paired responses and reference lists (a convenience over the two steps)."""
    if not responses:
        return math.nan
    sums = np.sum([bleu_stats(r, refs) for r, refs in zip(responses, references, strict=True)], axis=0)
    return float(bleu4(np.asarray(sums, dtype=np.float64)))
