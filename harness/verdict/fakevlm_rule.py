"""FakeVLM's answer rule, ported line for line (an option for comparing with FakeVLM's published numbers).

Source: github.com/opendatalab/FakeVLM, ``scripts/eval.py`` at commit fdcdcf1, ``validate``, lines
148-167. The decoded output (prompt included) is cut after its last "?", which leaves the answer after
the question, or only what follows the answer's own last "?"; then "real" as a *substring* of sentence 1
(text before the first ".") reads real, else "fake" there reads fake, else the same two tests on
sentence 2, else ``random.choice([0, 1])`` (1 = real, 0 = fake): a coin, also when the answer has no
second sentence. Substrings count, so "unrealistic", "really" and "surreal" read as real, and "real"
wins over "fake" in the same sentence. Upstream's coin is unseeded; here the caller passes a seeded
``rng``.
"""

from __future__ import annotations

import random

from spotfake.harness.types import Label

COIN: tuple[int, int] = (0, 1)
"""The values eval.py draws from (``random.choice([0, 1])``): 1 = real, 0 = fake."""


def fakevlm_verdict(text: str, rng: random.Random) -> tuple[Label, bool]:
    """FakeVLM's eval.py reading of an answer: the label, and whether a coin decided it."""
    response = text.split("?")[-1]
    sentences = response.split(".")
    for sentence in sentences[:2]:
        low = sentence.lower()
        if "real" in low:
            return "real", False
        if "fake" in low:
            return "fake", False
    return ("real" if rng.choice(COIN) == 1 else "fake"), True
