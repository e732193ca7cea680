"""Option letters: a pick alone, an explicit pick, a leading letter, else statements about one image."""

from __future__ import annotations

import re
from functools import lru_cache

from spotfake.harness.types import Label
from spotfake.harness.verdict.claims import claims_in, clauses
from spotfake.harness.verdict.questions import question_label
from spotfake.harness.verdict.text import make_sentence, split_sentences
from spotfake.harness.verdict.vocabulary import RELATIVE, word_set

DEFAULT_CHOICES = ("A", "B")


# ----------------------------------------------------------------------------------------- choices
_ORDINALS = {
    "first": 0,
    "1st": 0,
    "former": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
}
_REF_NOUNS = word_set("image picture photo photograph option choice")
_REF_TAILS = word_set("image one picture photo photograph option")
_LETTER_FOLLOW = word_set(
    "is was are appears appear looks look seems seem shows has contains exhibits displays could might may "
    "would must should likely probably definitely clearly also and which , . ; : ) ! ?"
)


@lru_cache(maxsize=64)
def _choice_patterns(
    choices: tuple[str, ...],
) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...], re.Pattern[str]]:
    """Patterns for an answer that is a pick alone, for explicit picks anywhere, and for a leading pick."""
    letters = "|".join(re.escape(c) for c in sorted(choices, key=len, reverse=True))
    ordinal = (
        r"(?:the\s+)?(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th|former|latter)"
        r"(?:\s+(?:one|image|picture|photo|photograph|option|choice))?"
    )
    numbered = r"(?:image|picture|photo|option|choice)\s*(?P<num>[1-9])\b"
    pick = rf"(?:\(\s*(?P<l1>{letters})\s*\)|(?P<l2>{letters})(?![\w'-])|{numbered}|{ordinal})"
    noun = r"(?:(?:option|image|choice)\s+)?"
    alone = re.compile(
        rf"\W*(?:(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|option|choice|image)\s*(?:is)?\s*[:\-]?\s*)?{pick}\W*",
        re.IGNORECASE,
    )
    explicit = tuple(
        re.compile(pattern, re.IGNORECASE)
        for pattern in (
            # "The answer is B", "Answer: (A)", "I choose the second image", "It's the second one"
            rf"\b(?:(?:answer|option|choice)\s*(?:is|would\s+be|=|:|-)\s*:?\s*|i\s+(?:would\s+)?"
            rf"(?:choose|pick|select|go\s+with)\s+|it(?:\s+is|'s|\u2019s|\s+would\s+be)\s+){noun}{pick}",
            # "B is correct", "Option B is the answer", "The first image is the correct one"
            rf"(?:^|(?<=[\s(]))(?:the\s+)?{noun}{pick}\s+is\s+(?:the\s+)?(?:correct|right|best|answer)\b",
        )
    )
    leading = re.compile(
        rf"\s*(?:(?:option|choice)\s+)?(?:\(\s*(?P<l1>{letters})\s*\)|(?P<l2>{letters})\s*(?:[.):,]|\s[-\u2013\u2014]\s|$))"
    )
    return alone, explicit, leading


def _letter(m: re.Match[str], choices: tuple[str, ...]) -> str | None:
    """The option a pattern match names, if it is one of ``choices``."""
    gd = m.groupdict()
    letter = gd.get("l1") or gd.get("l2")
    if letter:
        if gd.get("l2") and letter.islower():
            rest = m.string[m.end("l2") : m.end("l2") + 2].lstrip(" ")
            if rest[:1].isalpha():
                return None  # "the answer is a bit unclear": an article, not a letter
        up = letter.upper()
        return up if up in choices else None
    index = -1
    if gd.get("num"):
        index = int(gd["num"]) - 1
    elif gd.get("ord"):
        ordinal = gd["ord"].lower()
        index = len(choices) - 1 if ordinal == "latter" else _ORDINALS[ordinal]
    return choices[index] if 0 <= index < len(choices) else None


_PICK_HINTS = (
    "answer",
    "option",
    "choice",
    "choose",
    "pick",
    "select",
    "go with",
    "it is",
    "it's",
    "it\u2019s",
    "correct",
    "right",
    "best",
)


def read_choice(text: str, question: str | None, choices: tuple[str, ...]) -> str | None:
    cased = text.translate(_CHOICE_TABLE).strip()
    alone, explicit, leading = _choice_patterns(choices)
    m = alone.fullmatch(cased)
    if m:
        return _letter(m, choices)
    picks: set[str] = set()
    low = cased.lower()
    if any(hint in low for hint in _PICK_HINTS):
        for pattern in explicit:
            picks.update(x for x in (_letter(m, choices) for m in pattern.finditer(cased)) if x)
    m = leading.match(cased)
    if m:
        letter = _letter(m, choices)
        if letter:
            picks.add(letter)
    if picks:
        return picks.pop() if len(picks) == 1 else None
    return _choice_from_statements(text, question_label(question), choices)


_CHOICE_TABLE = str.maketrans({**dict.fromkeys('*_`#>[]{}"\u201c\u201d', " "), "\u2018": "'", "\u2019": "'"})


def _refs(tokens: list[str], start: int, end: int, choices: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """The sentence with each reference to an option ("image b", "the second one") replaced by "it",
    and for each token the option index it refers to (-1 for none)."""
    lowered = [c.lower() for c in choices]
    out: list[str] = []
    owner: list[int] = []
    i = start
    while i < end:
        tok = tokens[i]
        index, width = -1, 1
        if tok in _REF_NOUNS and i + 1 < end:
            nxt = tokens[i + 1]
            if nxt == "(" and i + 3 < end and tokens[i + 3] == ")":
                nxt, width = tokens[i + 2], 4
            else:
                width = 2
            follow = tokens[i + width] if i + width < end else "."
            if nxt.isdigit() and 0 < int(nxt) <= len(choices):
                index = int(nxt) - 1
            elif nxt in lowered and (len(nxt) > 1 or follow in _LETTER_FOLLOW or width == 4):
                index = lowered.index(nxt)
        elif tok in _ORDINALS or tok == "latter":
            index = len(choices) - 1 if tok == "latter" else _ORDINALS[tok]
            width = 2 if i + 1 < end and tokens[i + 1] in _REF_TAILS else 1
            if index >= len(choices):
                index = -1
            elif out and out[-1] == "the":
                out.pop()
                owner.pop()
        if index >= 0:
            out.append("it")
            owner.append(index)
            i += width
        else:
            out.append(tok)
            owner.append(-1)
            i += 1
    return out, owner


def _choice_from_statements(text: str, target: Label | None, choices: tuple[str, ...]) -> str | None:
    """The option that statements such as "Image B is fake" or "The second image is real" point to; all
    such statements must agree ("Image B is fake. Image A looks real." -> B when asked for the fake)."""
    picked: set[str] = set()
    for sentence in split_sentences(text):
        if sentence.question:
            continue
        plain, owner = _refs(sentence.tokens, sentence.start, sentence.end, choices)
        if all(o < 0 for o in owner):
            continue
        whole_sentence = make_sentence(plain)
        starts, openers = clauses(plain, whole_sentence, 0)
        named: list[set[int]] = []
        for c, s in enumerate(starts):
            e = starts[c + 1] if c + 1 < len(starts) else len(plain)
            named.append({o for o in owner[s:e] if o >= 0})
        for label, weak, _, _, clause in claims_in(plain, whole_sentence, 0, frozenset()):
            refs = named[clause]
            if not refs and openers[clause] in RELATIVE:  # "the first image, which looks real"
                back = clause - 1
                while back > 0 and not named[back] and starts[back + 1] - starts[back] <= 1:
                    back -= 1
                refs = named[back]
            if weak or len(refs) != 1:
                continue
            (index,) = refs
            if target is None or label == target:
                picked.add(choices[index])
            elif len(choices) == 2:
                picked.add(choices[1 - index])  # "Image B is fake" when asked for the real one: A
    return picked.pop() if len(picked) == 1 else None
