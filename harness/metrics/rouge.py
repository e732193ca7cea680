"""Fast ROUGE-L with values identical to rouge-score's ``RougeScorer(["rougeL"], use_stemmer=True)``.

Metric card: ROUGE-L
--------------------
Definition
    F-measure of the longest common subsequence (LCS) of tokens between a response and a reference:
    ``P = LCS / len(response)``, ``R = LCS / len(reference)``, ``F = 2PR / (P + R)``. Tokens are
    rouge-score's (lower-case, runs of ``[a-z0-9]``, Porter stemmer on words longer than 3 characters).
    The full response is compared with the full reference text (no sentence splitting, unlike
    ROUGE-Lsum). With several references the maximum F-measure counts. An empty response (or one with
    no ``[a-z0-9]`` token) scores 0. In a task summary, ``rouge_l`` is the mean over the samples that
    have a reference; higher is better, range [0, 1].
Arguments
    ``responses``: model outputs (``None`` counts as empty); ``references_lists``: for each response,
    one or more reference texts.
Why it is fast
    rouge-score re-stems every word of every text and fills a pure-Python LCS table. Here each distinct
    word is stemmed once (memoised; the stem of a word never changes), each distinct text is tokenised
    once, and the LCS length is computed with the bit-parallel algorithm of Allison and Dix (1986) /
    Hyyrö (2004) on Python integers. The LCS length is an exact integer and the F-measure uses
    rouge-score's own formula in the same order, so values are identical, not merely close.
Citation
    Lin, Chin-Yew. "ROUGE: A Package for Automatic Evaluation of Summaries." Text Summarization Branches
    Out (ACL Workshop), 2004. Implementation reference: google-research rouge-score 0.1.2.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from rouge_score import scoring
from rouge_score import tokenize as rouge_tokenize

_PORTER: Any = None


def _porter() -> Any:
    """The stemmer rouge-score's ``DefaultTokenizer(use_stemmer=True)`` builds (nltk's default mode).

    Imported on first use: importing nltk takes seconds, and most engine commands never stem a word.
    """
    global _PORTER
    if _PORTER is None:
        from nltk.stem import porter

        _PORTER = porter.PorterStemmer()
    return _PORTER


_MAX_WORDS = 1 << 20


class _WordTokens(dict[str, str]):
    """Memo: one piece of text between separators -> its rouge-score token ("" when dropped).

    Filled by rouge-score's own ``tokenize`` on the piece, so the stemming rule, the length rule and
    the validity check are rouge-score's; a piece is always lower-case ``[a-z0-9]*`` already, on which
    lower-casing and separator replacement change nothing.
    """

    def __missing__(self, piece: str) -> str:
        if len(self) >= _MAX_WORDS:
            self.clear()
        tokens = rouge_tokenize.tokenize(piece, _porter())
        token = tokens[0] if tokens else ""
        self[piece] = token
        return token


_WORD_TOKENS = _WordTokens()


_ASCII_PIECES = bytes(c if chr(c) in string.ascii_lowercase + string.digits else 32 for c in range(256))
"""Byte table: ``[a-z0-9]`` kept, every other byte a space (rouge-score's separator rule, for ASCII)."""


def _pieces(lowered: str) -> list[str]:
    """The runs of ``[a-z0-9]`` in lower-cased text, as rouge-score's split yields them (blanks aside).

    rouge-score replaces each run of other characters with a space and splits on whitespace; for ASCII
    text a byte translation followed by ``str.split`` gives the same non-empty pieces in a fraction of the
    time. Other text takes rouge-score's own regular expressions.
    """
    if lowered.isascii():
        return lowered.encode("ascii").translate(_ASCII_PIECES).decode("ascii").split()
    return rouge_tokenize.SPACES_RE.split(rouge_tokenize.NON_ALPHANUM_RE.sub(" ", lowered))


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's tokens of ``text`` (lower-cased, ``[a-z0-9]+`` runs, Porter-stemmed when longer than 3).

    The text is split into the pieces ``rouge_score.tokenize.tokenize`` splits it into; each distinct piece
    is then mapped once through that same function (see :class:`_WordTokens`). Empty pieces, which
    rouge-score drops at the end, map to "" and are dropped here too.
    """
    return list(filter(None, map(_WORD_TOKENS.__getitem__, _pieces(text.lower()))))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (bit-parallel, exact).

    Bit ``i`` of ``masks[token]`` is set when ``a[i] == token``. ``v`` holds one bit per position of
    ``a``; every zero bit marks one step of the LCS found so far (Hyyrö 2004, Alg. 2).
    """
    if not a or not b:
        return 0
    if len(a) > len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        match = masks.get(token)
        if match is not None:
            u = v & match
            v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l_fmeasure(reference: Sequence[str], response: Sequence[str]) -> float:
    """ROUGE-L F-measure of two token lists, computed exactly as rouge-score's ``_score_lcs`` does."""
    if not reference or not response:
        return 0.0
    lcs = lcs_length(reference, response)
    precision = lcs / len(response)
    recall = lcs / len(reference)
    return float(scoring.fmeasure(precision, recall))


def _as_reference_list(refs: Sequence[str] | str, index: int) -> Sequence[str]:
    if isinstance(refs, str):
        return (refs,)
    if len(refs) == 0:
        raise ValueError(f"pair {index}: no reference text; leave samples without a reference out")
    return refs


def rouge_l_scores(
    responses: Sequence[str | None], references_lists: Sequence[Sequence[str] | str]
) -> list[float]:
    """ROUGE-L F-measure of each response against its references (max over references).

    ``references_lists[i]`` is a list of reference texts (a single string is one reference). Identical to
    ``max(RougeScorer(["rougeL"], use_stemmer=True).score(ref, response)["rougeL"].fmeasure for ref in
    refs)`` for every pair; see the module docstring for the metric card.
    """
    if len(responses) != len(references_lists):
        raise ValueError(f"{len(responses)} responses but {len(references_lists)} reference lists")
    token_cache: dict[str, list[str]] = {}

    def tokens_of(text: str) -> list[str]:
        cached = token_cache.get(text)
        if cached is None:
            cached = token_cache[text] = rouge_tokens(text)
        return cached

    scores: list[float] = []
    for index, (response, refs) in enumerate(zip(responses, references_lists, strict=True)):
        reference_texts = _as_reference_list(refs, index)
        response_tokens = tokens_of(response or "")
        if not response_tokens:
            scores.append(0.0)
            continue
        scores.append(max(rouge_l_fmeasure(tokens_of(ref), response_tokens) for ref in reference_texts))
    return scores
