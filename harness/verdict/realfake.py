"""The real/fake rules: explicit answers, then conclusions, then the first sentence with a claim."""

from __future__ import annotations

from spotfake.harness.types import Label
from spotfake.harness.verdict.claims import Claim, claims_in, marker_end
from spotfake.harness.verdict.questions import lenient_echo
from spotfake.harness.verdict.text import make_sentence
from spotfake.harness.verdict.vocabulary import (
    CONCLUSION_RE,
    CONTRAST_START_RE,
    MARKER_NOUNS,
    NO,
    NO_FOLLOW,
    OTHER,
    YES,
    YES_NO_LEAD,
    word_set,
)


# ----------------------------------------------------------------------------------------- real/fake
def _yes_no(tokens: list[str], start: int, end: int) -> tuple[bool | None, int]:
    """A leading yes (True) or no (False) of the sentence, and where the rest of it starts."""
    if tokens[start : min(end, start + 5)] == ["i", "do", "not", "think", "so"]:
        return False, start + 5
    i = start
    while i < end and i < start + 3 and tokens[i] in YES_NO_LEAD:  # "Definitely yes", "I think no"
        i += 1
    if i >= end:
        return None, start
    tok = tokens[i]
    following = tokens[i + 1] if i + 1 < end else ""
    if tok in YES:
        return True, i + 1
    if tok in NO and following in NO_FOLLOW:  # "No, ...", but not "No signs of editing"
        return False, i + 1
    if tok == "not" and i > start and following in NO_FOLLOW:  # "Absolutely not."
        return False, i + 1
    if tok == "not" and i == start and following == "really":
        return False, i + 2  # "Not really."
    if tok == "not" and i == start and tokens[i + 1 : i + 3] == ["at", "all"] and i + 3 >= end:
        return False, i + 3  # "Not at all."
    return None, start


def read_verdict(chunks: list[str], yes_means: Label | None, asked: frozenset[str]) -> Label | None:
    """Explicit answers, then conclusions, then the first sentence with a claim (module docstring, 7)."""
    explicit: set[Label] = set()
    concluded: set[Label] = set()
    first: Label | None = None
    first_found = False
    echo: Label | None = None
    after_echo = after_marker = seen_statement = False
    for chunk in chunks:
        tokens = chunk.split()
        if not tokens:
            continue
        if (
            first_found
            and not after_marker
            and tokens[0] not in _LATE_STARTS
            and MARKER_NOUNS.isdisjoint(tokens)
        ):
            # Once a claim is found only an answer, a conclusion or a "However, ..." can change it.
            after_echo = False
            continue
        sentence = make_sentence(tokens)
        start, end = sentence.start, sentence.end
        if sentence.question:
            echo = lenient_echo(tokens, sentence)  # "Is it real? No. ..."
            after_echo = True
            continue
        tier = 3
        marker = marker_end(tokens, start, end) if sentence.markers else -1
        if marker >= 0:
            if marker >= end:
                after_marker = True  # "Verdict:" on a line of its own; the answer follows
                continue
            tier, start = 1, marker
        elif after_marker:
            tier = 1
        elif tokens[start] in _CONCLUSION_STARTS and CONCLUSION_RE.match(" ".join(tokens[start : start + 8])):
            tier = 2
        claims: list[Claim] = []
        if tier == 1 or after_echo or not seen_statement:
            answer, rest = _yes_no(tokens, start, end)
            if answer is not None:
                means = echo if after_echo and echo is not None else yes_means
                if means is not None:
                    claims.append((means if answer else OTHER[means], False, True, tier == 1, 0))
                start = rest
        after_echo = after_marker = False
        seen_statement = True
        if (
            first_found
            and tier == 3
            and not sentence.markers
            and (start >= end or tokens[start] not in _CONTRAST_STARTS)
        ):
            continue
        if start < end:
            claims.extend(claims_in(tokens, sentence, start, asked))
        strong = [c for c in claims if not c[1]]
        if not strong:
            continue
        labels = {c[0] for c in strong}
        if tier == 1:
            explicit.update(labels)
        else:
            explicit.update(c[0] for c in strong if c[3])
            if tier == 2:
                concluded.update(labels)
        if not first_found:
            first_found = True
            first = labels.pop() if len(labels) == 1 else None
        elif (
            first is not None
            and start < end
            and tokens[start] in _CONTRAST_STARTS
            and CONTRAST_START_RE.match(" ".join(tokens[start : start + 4]))
        ):
            # "It appears real. However, on closer inspection it is AI-generated."
            whole = {c[0] for c in strong if c[2]}
            if len(whole) == 1 and first not in whole:
                first = whole.pop()
    for decided in (explicit, concluded):
        if decided:
            return decided.pop() if len(decided) == 1 else None
    return first


_CONCLUSION_STARTS = word_set(
    "in therefore thus hence overall to ultimately all consequently finally so based given this these "
    "such they it"
)
_CONTRAST_STARTS = word_set("however but yet nevertheless nonetheless that on upon in actually looking")
_LATE_STARTS = _CONCLUSION_STARTS | _CONTRAST_STARTS
