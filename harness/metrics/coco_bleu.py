"""``bleu_mean14``: the mean of BLEU-1..4 as the COCO caption evaluation code (pycocoevalcap ``Bleu(4)``)
computes it, M2F2-Det's "BLEU".

Metric card: bleu_mean14.
Definition: per sample, on **whitespace tokens** (``text.split()``: case and punctuation kept, no
    tokenizer, as M2F2-Det's ``eval/eval_explanation.py`` passes its texts): the clipped n-gram matches
    (max count over the references) and the response's n-grams for n = 1..4 (``max(0, len - n + 1)``: a
    short answer has none of the longer orders), its length and the closest reference length (ties: the
    shorter). Over the samples with a reference, with the counts summed: BLEU-n = the geometric mean of
    ``(matches_k + 1e-15) / (ngrams_k + 1e-9)`` for k = 1..n, times ``exp(1 - r / c)`` when the total
    response length ``c`` is below the total reference length ``r`` (pycocoevalcap's ``tiny`` and ``small``
    keep a corpus without a match at a tiny value instead of 0); ``bleu_mean14`` is the mean of BLEU-1..4.
    Failed, missing and empty answers add their reference length only. Range [0, 1], higher is better.
    Differs from ``bleu4``'s counting (nltk's: lower-cased word tokens, one unmatched n-gram for an answer
    too short for the order, no epsilon), so the two are never compared.
Arguments: per-sample counts from :func:`coco_bleu_stats`; the corpus value from their sums
    (:func:`coco_bleu_mean`), so resamples and breakdowns reuse the column-sum machinery.
Citation: Papineni et al., BLEU, ACL 2002; Chen et al., "Microsoft COCO Captions: Data Collection and
    Evaluation Server", arXiv 1504.00325 (pycocoevalcap); M2F2-Det, Guo et al., CVPR 2025.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from spotfake.harness.metrics.types import FloatArray

ORDERS = 4
TINY, SMALL = 1e-15, 1e-9
"""pycocoevalcap's ``tiny`` (added to matches and lengths) and ``small`` (added to the denominators)."""
N_STATS = 2 * ORDERS + 2
"""matches for n = 1..4, response n-grams for n = 1..4, response length, closest reference length."""


def _grams(words: Sequence[str]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + k]) for k in range(1, ORDERS + 1) for i in range(len(words) - k + 1))


def coco_bleu_stats(response: str, references: Sequence[str]) -> list[float]:
    """The :data:`N_STATS` counts one sample contributes (pycocoevalcap's ``cook_test`` with "closest")."""
    words = response.split()
    max_ref: Counter[tuple[str, ...]] = Counter()
    ref_lens = []
    for ref in references:
        ref_words = ref.split()
        ref_lens.append(len(ref_words))
        max_ref |= _grams(ref_words)  # the largest count of each n-gram over the references
    matches = [0.0] * ORDERS
    for gram, count in _grams(words).items():
        matches[len(gram) - 1] += min(max_ref.get(gram, 0), count)
    totals = [float(max(0, len(words) - k + 1)) for k in range(1, ORDERS + 1)]
    closest = min((abs(n - len(words)), n) for n in ref_lens)[1]
    return [*matches, *totals, float(len(words)), float(closest)]


def coco_bleu_n(sums: FloatArray, order: int) -> FloatArray:
    """pycocoevalcap's corpus BLEU-``order`` from summed :func:`coco_bleu_stats`; any leading shape."""
    matches, totals = sums[..., 0:order], sums[..., ORDERS : ORDERS + order]
    log_p = np.log((matches + TINY) / (totals + SMALL)).sum(axis=-1) / order
    ratio = (sums[..., 2 * ORDERS] + TINY) / (sums[..., 2 * ORDERS + 1] + SMALL)
    with np.errstate(divide="ignore", over="ignore"):
        brevity = np.where(ratio < 1, np.exp(1 - 1 / ratio), 1.0)
    out: FloatArray = np.exp(log_p) * brevity
    return out


def coco_bleu_mean(sums: FloatArray) -> FloatArray:
    """The mean of pycocoevalcap's corpus BLEU-1..4 from summed :func:`coco_bleu_stats`."""
    return np.mean([coco_bleu_n(sums, k) for k in range(1, ORDERS + 1)], axis=0)
