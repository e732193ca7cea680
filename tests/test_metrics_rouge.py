"""Fast ROUGE-L must give exactly rouge-score's values (RougeScorer(["rougeL"], use_stemmer=True))."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from spotfake.harness.metrics import rouge_l_scores
from spotfake.harness.metrics.rouge import lcs_length, rouge_tokens

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

WORDS = [
    "the",
    "this",
    "image",
    "is",
    "fake",
    "real",
    "photo",
    "generated",
    "AI",
    "artifacts",
    "artifact",
    "blurry",
    "blurring",
    "blurred",
    "edges",
    "edge",
    "fingers",
    "finger",
    "hands",
    "hand",
    "eyes",
    "eye",
    "asymmetric",
    "asymmetry",
    "lighting",
    "lights",
    "shadow",
    "shadows",
    "inconsistent",
    "inconsistencies",
    "texture",
    "textures",
    "smooth",
    "smoothing",
    "skin",
    "hair",
    "background",
    "text",
    "letters",
    "lettering",
    "distorted",
    "distortion",
    "running",
    "runs",
    "ran",
    "unnatural",
    "naturally",
    "reflection",
    "reflections",
    "3D",
    "4k",
    "1024x1024",
    "don't",
    "it's",
    "e.g.",
    "i.e.",
    "...",
    "--",
    "!?",
    "(left)",
    "[right]",
    "{top}",
    "'quoted'",
    '"double"',
    "a",
    "an",
    "of",
    "on",
    "in",
    "at",
]
UNICODE = [
    "café",
    "naïve",
    "İstanbul",
    "ΣΟΦΟΣ",
    "straße",
    "\u212aelvin",
    "日本語",
    "emoji🙂",
    "ﬁne",
    "\u00a0",
    "x\u0301",
]


def reference_value(response: str, refs: list[str]) -> float:
    """rouge-score itself, one pair at a time (its own max-over-references)."""
    return float(SCORER.score_multi(refs, response)["rougeL"].fmeasure)


def random_text(rng: random.Random, max_words: int = 50) -> str:
    pool = WORDS + UNICODE if rng.random() < 0.3 else WORDS
    words = [rng.choice(pool) for _ in range(rng.randint(0, max_words))]
    if words and rng.random() < 0.3:  # repeated phrases stress the LCS
        words += words[: rng.randint(1, len(words))]
    seps = [" ", " ", " ", ", ", ". ", "\n", "\t", "-", "  "]
    return "".join(w + rng.choice(seps) for w in words).strip()


def test_many_random_pairs_are_identical() -> None:
    rng = random.Random(1234)
    responses = [random_text(rng) for _ in range(400)]
    refs = [[random_text(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))] for _ in range(400)]
    fast = rouge_l_scores(responses, refs)
    slow = [reference_value(r, rs) for r, rs in zip(responses, refs, strict=True)]
    assert fast == slow  # exact equality, not closeness
    assert any(0.0 < v < 1.0 for v in fast)


TRICKY = [
    ("", "a fake image"),
    ("a fake image", ""),
    ("", ""),
    ("...!!!", "a fake image"),
    ("a fake image", "?? -- !!"),
    ("The image is FAKE.", "the image is fake"),
    ("running runs ran runner", "run running ran"),
    ("fake fake fake fake", "fake"),
    ("fake", "fake fake fake fake"),
    ("a b a b a b a b", "b a b a b a"),
    ("café naïve straße", "cafe naive strasse"),
    ("İstanbul \u212aelvin", "istanbul kelvin"),
    ("日本語 only", "日本語"),
    ("a" * 300, "a" * 300),
    (" ".join(str(i) for i in range(200)), " ".join(str(i) for i in range(199, -1, -1))),
    ("x\u0301 e\u0301tude", "etude x"),
]


@pytest.mark.parametrize(("response", "reference"), TRICKY)
def test_tricky_pairs_are_identical(response: str, reference: str) -> None:
    assert rouge_l_scores([response], [[reference]]) == [reference_value(response, [reference])]


PIECES = [*"abcAB 1.,-é\n", "fake ", "real ", "running ", "runs ", "İ", "\u212a"]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(response=TEXTS, refs=st.lists(TEXTS, min_size=1, max_size=3))
def test_property_identical_to_rouge_score(response: str, refs: list[str]) -> None:
    assert rouge_l_scores([response], [refs]) == [reference_value(response, refs)]


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from("abcde"), max_size=40), st.lists(st.sampled_from("abcde"), max_size=40))
def test_lcs_length_matches_dynamic_programming(a: list[str], b: list[str]) -> None:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    assert lcs_length(a, b) == table[-1][-1]


def test_tokens_are_rouge_scores_tokens() -> None:
    rng = random.Random(7)
    tokenizer = SCORER._tokenizer  # rouge-score's own DefaultTokenizer(use_stemmer=True)
    for _ in range(300):
        text = random_text(rng)
        assert rouge_tokens(text) == tokenizer.tokenize(text)


def test_max_over_references_and_empty_response() -> None:
    refs = ["completely unrelated words here", "the hands have six fingers"]
    [best] = rouge_l_scores(["the hands have six fingers"], [refs])
    assert best == 1.0
    assert rouge_l_scores([None, "", "   "], [["a fake"], ["a fake"], ["a fake"]]) == [0.0, 0.0, 0.0]


def test_a_bare_string_is_one_reference() -> None:
    assert rouge_l_scores(["the cat sat"], ["the cat sat down"]) == rouge_l_scores(
        ["the cat sat"], [["the cat sat down"]]
    )
    # hand-computed: LCS 3, P = 3/3, R = 3/4, F = 2 * 0.75 / 1.75
    assert rouge_l_scores(["the cat sat"], [["the cat sat down"]]) == [2 * 1.0 * 0.75 / 1.75]


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="2 responses but 1"):
        rouge_l_scores(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="no reference"):
        rouge_l_scores(["a"], [[]])
