"""LOKI's own answer rules, ported line for line (an option for comparing with LOKI's published numbers).

Source: github.com/opendatalab/LOKI, ``lm_evaluate/tasks/loki.py`` at commit 251b4f6:

- yes/no questions (``metric == "open-ended"``): ``Loki.parse_true_or_false``, lines 253-275. The answer is
  lower-cased, stripped and its periods removed; exactly "yes"/"no" (or "y"/"n") is read as such,
  otherwise "yes" or "no" *inside the first 4 characters* decides ("yes" first), else "other", which
  ``eval_open`` (lines 297-324) never counts as right. "This is a fake image." reads as "other"; "Not
  real" and "None" read as "no".
- multiple choice: ``Loki.parse_multi_choice_response``, lines 156-231 (from MMMU's eval_utils): "(A)",
  then "**A**", then "A " anywhere in the padded answer (case-sensitive: the article in "A model" counts),
  then "A.", then an option's text verbatim, then, for answers of more than 5 words, an option's text
  case-insensitively; several candidates -> the one found last; none -> ``random.choice`` of the
  letters (line 205; unseeded upstream, seeded per sample here). When an option's *text* is matched
  (lines 191-194) LOKI returns the text, not its letter, so ``eval_multi_choice`` (lines 278-294) counts
  it wrong: :func:`loki_choice` returns that text too, and the caller reads it as no option.

These are pure functions; the only randomness is the ``rng`` the caller passes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Literal

YesNo = Literal["yes", "no", "other"]


def loki_yes_no(text: str) -> YesNo:
    """LOKI's reading of a yes/no answer: "yes", "no" or "other" (``parse_true_or_false``, lines 253-275)."""
    pred = text.lower().strip().replace(".", "")
    if pred in ("yes", "no"):
        return "yes" if pred == "yes" else "no"
    if len(pred) == 1:
        return "yes" if pred == "y" else "no" if pred == "n" else "other"
    prefix = pred[:4]
    if "yes" in prefix:
        return "yes"
    if "no" in prefix:
        return "no"
    return "other"


def loki_choice(text: str, options: Mapping[str, str], rng: random.Random) -> tuple[str, bool]:
    """LOKI's pick for a multiple-choice answer and whether it was a random pick.

    ``options`` maps each letter, in order, to its option text (LOKI's ``index2ans``). The pick is a
    letter, or an option's text where LOKI's rule returns the text (counted wrong upstream).
    """
    response = text
    for char in (",", ".", "!", "?", ";", ":", "'"):
        response = response.strip(char)
    response = " " + response + " "
    letters = list(options)
    index_ans = True
    with_brackets = with_stars = False
    candidates: list[str] = []
    for letter in letters:
        if f"({letter})" in response:
            candidates.append(letter)
            with_brackets = True
    for letter in letters:
        if f"**{letter}**" in response:
            candidates.append(letter)
            with_stars = True
    if not candidates:
        candidates = [letter for letter in letters if f"{letter} " in response]
    if not candidates:
        candidates = [letter for letter in letters if f"{letter}." in response]
    if not candidates:
        candidates = [answer for answer in options.values() if answer and answer in response]
    if not candidates and len(response.split()) > 5:
        candidates = [
            letter for letter, answer in options.items() if answer and answer.lower() in response.lower()
        ]
        index_ans = not candidates
    if not candidates:
        return rng.choice(letters), True
    if len(candidates) == 1:
        return candidates[0], False
    if not index_ans:
        starts = [response.lower().rfind(options[c].lower()) for c in candidates]
    elif with_brackets:
        starts = [response.rfind(f"({c})") for c in candidates]
    elif with_stars:
        starts = [response.rfind(f"**{c}**") for c in candidates]
    else:
        starts = [response.rfind(f" {c} ") for c in candidates]
    return candidates[_first_max(starts)], False


def _first_max(values: Sequence[int]) -> int:
    """The index of the first largest value (``numpy.argmax``'s tie rule)."""
    return max(range(len(values)), key=values.__getitem__)


def options_from_prompt(prompt: str, letters: Sequence[str]) -> dict[str, str]:
    """The option texts of a prompt that lists them as LOKI does, one ``"A. text"`` line per letter.

    Letters without such a line get an empty text, which LOKI's text matching then never finds alone
    (an empty text is in every answer: it is dropped rather than matched).
    """
    found: dict[str, str] = {}
    for line in prompt.splitlines():
        stripped = line.strip()
        head, dot, rest = stripped.partition(". ")
        if dot and head in letters and head not in found and rest.strip():
            found[head] = rest.strip()
    return {letter: found.get(letter, "") for letter in letters}
