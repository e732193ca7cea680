"""CIDEr-D per sample, as the COCO caption evaluation code (pycocoevalcap ``Cider``) computes it.

Metric card: cider.
Definition: for each sample, the mean over n = 1..4 of the average over its references of
    ``cos_clip(g_n(response), g_n(reference)) * exp(-(l_response - l_reference)^2 / (2 * 6^2))``, times 10,
    where ``g_n`` is the vector of n-gram TF-IDF weights ``tf * (log N - log max(1, df))``: ``N`` is the
    number of samples with a reference, ``df`` the number of samples whose references hold the n-gram;
    ``cos_clip`` clips each response weight at the reference's (``sum min(g_h, g_r) * g_r``) before dividing
    by both norms (0 when either norm is 0); the length ``l`` is the text's number of bigrams (words - 1),
    as pycocoevalcap counts it. The task value is the mean over the samples that have a reference (equal
    to pycocoevalcap's corpus CIDEr); failed, missing and empty answers score 0. Document frequencies come
    from the references of the whole task, so a breakdown group or a bootstrap resample averages the
    same per-sample values (pycocoevalcap would recount ``df`` on the subset). Tokens are the texts'
    whitespace-separated words, case and punctuation kept, as pycocoevalcap splits them and as M2F2-Det
    passes its texts (no tokenizer). Range [0, 10] in principle, higher is better.
Arguments: ``responses`` and, for each, its reference texts (at least one each).
Citation: Vedantam, Zitnick and Parikh, "CIDEr: Consensus-based Image Description Evaluation", CVPR 2015
    (CIDEr-D: the clipping and the length penalty of the COCO evaluation server); reported with BLEU,
    ROUGE-L and SPICE by M2F2-Det (Guo et al., CVPR 2025).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

ORDERS = 4
SIGMA = 6.0
Ngram = tuple[str, ...]


def ngram_counts(tokens: Sequence[str], orders: int = ORDERS) -> Counter[Ngram]:
    """Counts of every 1- to ``orders``-gram of ``tokens``."""
    counts: Counter[Ngram] = Counter()
    for k in range(1, orders + 1):
        for i in range(len(tokens) - k + 1):
            counts[tuple(tokens[i : i + k])] += 1
    return counts


class _Vector:
    """TF-IDF weights of one text, per n-gram order, their norms and the text's bigram count."""

    def __init__(self, counts: Counter[Ngram], idf: dict[Ngram, float], log_n: float) -> None:
        self.weights: list[dict[Ngram, float]] = [{} for _ in range(ORDERS)]
        for gram, tf in counts.items():
            self.weights[len(gram) - 1][gram] = tf * idf.get(gram, log_n)
        self.norms = [math.sqrt(sum(w * w for w in order.values())) for order in self.weights]
        self.length = sum(counts[g] for g in self.weights[1])  # pycocoevalcap's length: bigrams

    def similarity(self, ref: _Vector) -> float:
        """Mean over orders of the clipped cosine times the Gaussian length penalty."""
        penalty = math.exp(-((self.length - ref.length) ** 2) / (2 * SIGMA**2))
        total = 0.0
        for n in range(ORDERS):
            hyp_w, ref_w = self.weights[n], ref.weights[n]
            dot = sum(min(w, ref_w[g]) * ref_w[g] for g, w in hyp_w.items() if g in ref_w)
            if self.norms[n] != 0 and ref.norms[n] != 0:
                dot /= self.norms[n] * ref.norms[n]
            total += dot * penalty
        return total / ORDERS


def cider_d(responses: Sequence[str], references: Sequence[Sequence[str]]) -> list[float]:
    """CIDEr-D of each response against its references (card in the module docstring)."""
    if len(responses) != len(references):
        raise ValueError(f"{len(responses)} responses but {len(references)} reference lists")
    if not responses:
        return []
    ref_counts = [[ngram_counts(r.split()) for r in refs] for refs in references]
    df: Counter[Ngram] = Counter()
    for counts in ref_counts:
        df.update({gram for c in counts for gram in c})
    log_n = math.log(len(responses))
    idf = {gram: log_n - math.log(max(1.0, d)) for gram, d in df.items()}
    scores = []
    for response, counts in zip(responses, ref_counts, strict=True):
        if not counts:
            raise ValueError("every response needs at least one reference")
        hyp = _Vector(ngram_counts(response.split()), idf, log_n)
        total = sum(hyp.similarity(_Vector(c, idf, log_n)) for c in counts)
        scores.append(10.0 * total / len(counts))
    return scores
