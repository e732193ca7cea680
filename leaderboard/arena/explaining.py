"""What the arena may show a voter (pure code): explanations, never fixed sentences; two different texts;
sample ids a voter cannot read a label from.

- A run *explains* when it is a language model (kind ``lmm``) and its text says more than its verdict: a
  run whose every verdict always comes with the same text (``This is a fake image.`` for each fake) gives
  fixed sentences, not explanations, and is no contestant.
- An answer that is one sentence repeated word for word on other samples of the run (``The image shows AI
  artifacts.``) explains no image in particular and is not shown.
- Two identical texts are never paired: there is nothing to choose between.
- The voter sees an opaque sample label, a salted hash of the id: ids and file names carry labels
  (``gravel/real/0009.png``), and the salt is the server's secret, so the label cannot be recomputed from
  the public ids.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Mapping

EXPLAINING_KINDS = ("lmm",)
"""Model kinds whose answers can be explanations (experts and baselines answer with fixed sentences)."""
_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")

Explained = Mapping[str, tuple[str | None, str]]
"""sample id -> (verdict, text) of one run."""


def normalized(text: str) -> str:
    """The text as compared: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def sentences(text: str) -> int:
    """How many sentences ``text`` has (pieces ending in ``.``, ``!`` or ``?``, or the last piece)."""
    return sum(1 for piece in _SENTENCE_END.split(text.strip()) if piece.strip())


def says_more_than_its_verdict(explained: Explained) -> bool:
    """False when the text is a function of the verdict (each verdict always comes with one text)."""
    texts: dict[str | None, set[str]] = {}
    for verdict, text in explained.values():
        texts.setdefault(verdict, set()).add(normalized(text))
    return any(len(found) > 1 for found in texts.values())


def explanations(kind: str, explained: Explained) -> dict[str, tuple[str | None, str]]:
    """The answers of a run of ``kind`` that the arena may show: none when the run does not explain (not
    a language model, or text that says no more than the verdict); otherwise every answer except a single
    sentence repeated word for word on another sample."""
    if kind not in EXPLAINING_KINDS or not says_more_than_its_verdict(explained):
        return {}
    counts = Counter(normalized(text) for _, text in explained.values())
    return {
        sid: (verdict, text)
        for sid, (verdict, text) in explained.items()
        if not (counts[normalized(text)] > 1 and sentences(text) <= 1)
    }


def different(text_a: str, text_b: str) -> bool:
    """Whether two explanations differ (identical texts are never paired)."""
    return normalized(text_a) != normalized(text_b)


def opaque_id(task: str, sample_id: str, salt: bytes) -> str:
    """What the voter sees instead of the sample id: ``#`` and 10 hex digits of an HMAC of the task and
    the id under the server's secret ``salt``; the same sample always gets the same label on one server."""
    digest = hmac.new(salt, f"{task}\x00{sample_id}".encode(), hashlib.sha256).hexdigest()
    return f"#{digest[:10]}"
