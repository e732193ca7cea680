"""Text normalising: lower case, markdown dropped, punctuation set apart, contractions expanded; sentences."""

from __future__ import annotations

from typing import NamedTuple

from spotfake.harness.verdict.vocabulary import MARKER_NOUNS, TRIGGERS

# Normalisation: lower case, a few fixed replacements, punctuation split off, split on white space.
# (str.replace and str.split run at C speed; a translation table with multi-character targets does not.)
_ABBREVIATIONS = (
    ("a.i.", "ai"),
    ("e.g.", "eg"),
    ("i.e.", "ie"),
    ("etc.", "etc"),
    ("vs.", "vs"),
    ("approx.", "approx"),
    ("cannot", "can not"),
)
# A model's control tokens (SIDA's "[CLS] The image is tampered [SEG] ... [END]", LLaMA's "<s>") end a
# sentence: they are no words, and the text on either side of them is no one sentence.
_CONTROL_TOKENS = ("[cls]", "[seg]", "[end]", "[sep]", "<s>", "</s>")
_CHAR_TABLE = str.maketrans(  # one character to one character: str.translate's fast path
    {
        **dict.fromkeys('*_`#>[]{}"\u201c\u201d\t', " "),
        "\u2018": "'",
        "\u2019": "'",
        "\u2026": ".",
        "|": ".",
        "\n": ".",
        "\r": ".",
        "=": ":",
    }
)
_PUNCTUATION = (*((c, f" {c} ") for c in ",;:()!?./"), ("\u2014", " - "), ("\u2013", " - "))
# Contractions, once punctuation is split off: "isn't" -> "is not", "it's" -> "it is", "'fake'" -> "fake";
# a possessive ("the person's nose") stays one word.
_CONTRACTIONS = (
    ("can't", "can not"),
    ("won't", "will not"),
    ("ain't", "is not"),
    ("shan't", "shall not"),
    ("n't ", " not "),
    ("'re ", " are "),
    ("'m ", " am "),
    ("'ve ", " have "),
    ("'ll ", " will "),
    ("'d ", " would "),
    *((f" {w}'s ", f" {w} is ") for w in ("it", "that", "this", "there", "here", "what", "who", "he", "she")),
    (" '", " "),
    ("' ", " "),
)


def _normalised(text: str) -> str:
    """Lower case, control tokens made sentence ends, markdown dropped, punctuation set apart by spaces,
    contractions expanded."""
    low = text.lower()
    for old, new in _ABBREVIATIONS:
        if old in low:
            low = low.replace(old, new)
    for token in _CONTROL_TOKENS:
        if token in low:
            low = low.replace(token, " . ")
    low = low.translate(_CHAR_TABLE)
    for old, new in _PUNCTUATION:
        if old in low:
            low = low.replace(old, new)
    if "'" in low:
        low = f" {low} "
        for old, new in _CONTRACTIONS:
            if old in low:
                low = low.replace(old, new)
    return low


def split_chunks(text: str) -> list[str]:
    """The sentences of ``text``, normalised, as strings (split lazily: most are never looked into)."""
    low = _normalised(text)
    if " ! " in low:
        low = low.replace(" ! ", " . ")
    if " ? " in low:
        low = low.replace(" ? ", " ? . ")
    return low.split(" . ")


class Sentence(NamedTuple):
    """One normalised sentence: its tokens and what the claim finder needs to know about it."""

    tokens: list[str]
    start: int
    end: int  # exclusive; a question keeps its "?"
    question: bool
    triggers: list[int]  # tokens that may start a verdict word
    markers: bool  # holds a word such as "verdict" or "answer"


def make_sentence(tokens: list[str]) -> Sentence:
    return Sentence(
        tokens,
        0,
        len(tokens),
        bool(tokens) and tokens[-1] == "?",
        [i for i, tok in enumerate(tokens) if tok in TRIGGERS],
        not MARKER_NOUNS.isdisjoint(tokens),
    )


def split_sentences(text: str) -> list[Sentence]:
    return [make_sentence(tokens) for tokens in map(str.split, split_chunks(text)) if tokens]
