"""Corpus BLEU-4 from per-sample counts equals nltk's corpus_bleu, and flows through summarize."""

from __future__ import annotations

import random

import pytest
from nltk.translate.bleu_score import corpus_bleu

from spotfake.harness.metrics import score_records, summarize
from spotfake.harness.metrics.bleu import bleu_tokens, corpus_bleu4
from spotfake.harness.types import Record

WORDS = [
    "the",
    "face",
    "skin",
    "eyes",
    "nose",
    "mouth",
    "looks",
    "blurry",
    "smooth",
    "natural",
    "real",
    "fake",
    "edges",
    "lighting",
    "is",
    "not",
    "and",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) + rng.choice([".", "!", ""])


def test_equals_nltk_corpus_bleu_on_random_corpora() -> None:
    rng = random.Random(7)
    for _ in range(20):
        hyps = [sentence(rng) for _ in range(30)]
        refs = [[sentence(rng) for _ in range(rng.randint(1, 3))] for _ in range(30)]
        expected = corpus_bleu([[bleu_tokens(r) for r in rs] for rs in refs], [bleu_tokens(h) for h in hyps])
        assert corpus_bleu4(hyps, refs) == pytest.approx(expected, abs=1e-12)


def test_no_matching_four_gram_scores_zero_and_punctuation_is_ignored() -> None:
    assert corpus_bleu4(["a b c"], [["x y z w"]]) == 0.0
    assert corpus_bleu4(["The nose looks blurry!"], [["the nose, looks blurry."]]) == pytest.approx(1.0)


def test_bleu4_through_score_records_and_summarize() -> None:
    records = [
        Record(id="1", label="fake", response="the nose looks blurry and smooth", verdict="fake"),
        Record(id="2", label="real", response=None, verdict=None),
        Record(id="3", label="real", response="natural skin", verdict="real"),
    ]
    refs = {"1": ["the nose looks blurry and smooth"], "2": ["the eyes look natural"]}
    score_records(records, refs, answer_kind="verdict", metrics=["acc", "bleu4"])
    assert records[2].bleu_stats is None and records[1].bleu_stats is not None
    summary = summarize(records, answer_kind="verdict", metrics=["acc", "bleu4"], n_bootstrap=50)
    hyps = [bleu_tokens("the nose looks blurry and smooth"), []]
    expected = corpus_bleu([[bleu_tokens(refs["1"][0])], [bleu_tokens(refs["2"][0])]], hyps)
    assert summary.metrics["bleu4"] == pytest.approx(expected, abs=1e-12)
    lo, hi = summary.ci["bleu4"]
    assert 0.0 <= lo <= hi <= 1.0
