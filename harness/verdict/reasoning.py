"""Reasoning answers: the answer part and the reasoning part of a think/answer or JSON answer.

R1-style reasoning models write their reasoning and their answer apart. The verdict is read from the
answer part only (the reasoning weighs both sides: "it could be fake... but the lighting is real"), and the
explanation metrics compare the text without its markup. Forms recognised (tags in any case, spaces
allowed inside the brackets; Kimi-VL's ``◁think▷``/``◁/think▷`` count as ``<think>``/``</think>``, and
``<thinking>``/``<reasoning>`` as ``<think>``):

=================================================  ===========================================================
answer                                             parts
=================================================  ===========================================================
``<think>R</think><answer>A</answer>``             reasoning R, answer A (every ``<answer>`` after the last
                                                   ``</think>``, joined: two different ones read as None)
``<think>R</think> A``                             R1 style: the answer is the text after the last ``</think>``
``R</think> A``                                    a chat template that opened ``<think>`` itself: the same
``R <answer>A</answer>``                           reasoning R (the text outside the tags), answer A
``<think>R <answer>A</answer>``                    a think never closed but an answer given: R, A
``<think>R`` (no ``</think>``, no ``<answer>``)    *open*: no answer (cut by the token limit, or the model
                                                   stopped inside its reasoning); the verdict is None
``{"answer": "fake", "reasoning": "..."}``         a JSON object (alone, in a ```json fence, or after some
                                                   text) with a string under an answer key (``ANSWER_KEYS``);
                                                   the reasoning is the strings under ``REASONING_KEYS``
anything else                                      plain: the whole text is the answer, with no reasoning
=================================================  ===========================================================

An answer part that is itself a JSON object with an answer key (``</think>`` followed by ```json) is read
the same way. Inside an answer, ``\\boxed{X}`` is X and special-token markers such as ``<|begin_of_box|>``
are dropped. A plain ``Answer: real`` line needs no split: the verdict parser's explicit-answer rule reads it.

Everything here is a pure function of the text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

AnswerForm = Literal["plain", "tags", "json"]

ANSWER_KEYS = (
    "answer",
    "final_answer",
    "verdict",
    "label",
    "prediction",
    "classification",
    "result",
    "conclusion",
    "judgment",
    "judgement",
)
"""JSON keys whose string value is the answer (the first one present, in this order)."""

REASONING_KEYS = (
    "reasoning",
    "reason",
    "reasons",
    "rationale",
    "explanation",
    "analysis",
    "thinking",
    "think",
    "thought",
    "thoughts",
    "evidence",
)
"""JSON keys whose string (or list of strings) values are the reasoning, in the object's order."""

_THINK = "think|thinking|reasoning"
_OPEN_THINK = re.compile(rf"<\s*(?:{_THINK})\s*>", re.IGNORECASE)
_CLOSE_THINK = re.compile(rf"<\s*/\s*(?:{_THINK})\s*>", re.IGNORECASE)
_OPEN_ANSWER = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_CLOSE_ANSWER = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_ANY_TAG = re.compile(rf"<\s*/?\s*(?:{_THINK}|answer)\s*>", re.IGNORECASE)
_SPECIAL = re.compile(r"<\|[^|<>\s]{1,40}\|>")
_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")
_SPACES = re.compile(r"[ \t]{2,}")
_FENCE = re.compile(r"```[a-zA-Z]*\s*(\{.*?\})\s*```", re.DOTALL)
_MARKERS = ("<", "{", "\u25c1")  # nothing to split without one of these


@dataclass(frozen=True)
class AnswerParts:
    """One answer split into the part its verdict is read from and the reasoning that led to it."""

    form: AnswerForm
    answer: str | None
    """The text the verdict is read from; None when the answer never came (an open ``<think>``)."""
    reasoning: str | None
    """The reasoning, markup removed; None for a plain answer or an empty reasoning."""
    open_think: bool = False
    """A ``<think>`` that was never closed and no answer after it."""
    pieces: tuple[str, ...] = ()
    """The separate ``<answer>`` contents when there are several (each read on its own; two different
    verdicts read as None)."""

    @property
    def explanation(self) -> str:
        """What explanation metrics compare with the reference: the reasoning, then the answer, markup
        removed (a plain answer is its own explanation)."""
        return "\n".join(part for part in (self.reasoning, self.answer) if part)

    @property
    def reasoning_words(self) -> int | None:
        """Length of the reasoning in whitespace-separated words; None when there is no reasoning part."""
        return None if self.reasoning is None else len(self.reasoning.split())


@lru_cache(maxsize=16384)
def split_answer(text: str) -> AnswerParts:
    """The answer part and the reasoning part of ``text`` (forms in the module docstring)."""
    if not any(marker in text for marker in _MARKERS):
        return AnswerParts("plain", text, None)
    if "\u25c1" in text:
        text = text.replace("\u25c1/think\u25b7", "</think>").replace("\u25c1think\u25b7", "<think>")
    closes = list(_CLOSE_THINK.finditer(text))
    if closes:
        before, after = text[: closes[-1].start()], text[closes[-1].end() :]
        opened = _OPEN_THINK.search(before)
        reasoning = before[opened.end() :] if opened else before
        return _finish("tags", _answer_tags(after) or [after], reasoning)
    opened = _OPEN_THINK.search(text)
    if opened:
        rest = text[opened.end() :]
        tag = _OPEN_ANSWER.search(rest)
        if tag is None:
            return AnswerParts("tags", None, _clean(rest), open_think=True)
        return _finish("tags", _answer_tags(rest[tag.start() :]) or [], rest[: tag.start()])
    tag = _OPEN_ANSWER.search(text)
    if tag is not None:
        reasoning = text[: tag.start()] + " " + _CLOSE_ANSWER.split(text[tag.start() :])[-1]
        return _finish("tags", _answer_tags(text[tag.start() :]) or [], reasoning)
    found = _json_parts(text)
    if found is not None:
        return AnswerParts("json", found[0], found[1])
    return AnswerParts("plain", text, None)


def explanation_text(text: str) -> str:
    """The explanation an answer gives (:attr:`AnswerParts.explanation`)."""
    return split_answer(text).explanation


def _finish(form: AnswerForm, answers: list[str], reasoning: str) -> AnswerParts:
    """Parts from raw answers and reasoning: markup removed, an answer that is JSON read as JSON."""
    reasons = [_clean(reasoning)]
    pieces = []
    for raw in answers:
        found = _json_parts(raw) if "{" in raw else None
        if found is not None:
            answer, extra = found
            reasons.append(extra)
        else:
            answer = _clean(_BOXED.sub(r"\1", _SPECIAL.sub(" ", raw)))
        if answer:
            pieces.append(answer)
    reasoning_text = "\n".join(r for r in reasons if r) or None
    if not pieces:
        return AnswerParts(form, None, reasoning_text)
    return AnswerParts(
        form, "\n".join(pieces), reasoning_text, pieces=tuple(pieces) if len(pieces) > 1 else ()
    )


def _answer_tags(text: str) -> list[str] | None:
    """The contents of every ``<answer>`` in ``text`` (an unclosed last one runs to the end); None when
    there is no ``<answer>``."""
    pieces = _OPEN_ANSWER.split(text)
    if len(pieces) == 1:
        return None
    return [_CLOSE_ANSWER.split(piece, maxsplit=1)[0] for piece in pieces[1:]]


def _clean(text: str) -> str | None:
    """``text`` without think/answer tags and outer white space; None when nothing is left."""
    out = _SPACES.sub(" ", _ANY_TAG.sub(" ", text)).strip()
    return out or None


def _json_parts(text: str) -> tuple[str | None, str | None] | None:
    """``(answer, reasoning)`` of a JSON object in ``text`` that has a string under an answer key."""
    for candidate in _json_candidates(text):
        try:
            obj = json.loads(candidate)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        keyed = {str(k).strip().lower(): v for k, v in obj.items()}
        answer = next((keyed[k] for k in ANSWER_KEYS if isinstance(keyed.get(k), str)), None)
        if answer is None:
            continue
        reasoning = [_strings(v) for k, v in keyed.items() if k in REASONING_KEYS]
        joined = "\n".join(r for r in reasoning if r)
        return answer.strip() or None, joined or None
    return None


def _json_candidates(text: str) -> list[str]:
    """Spans of ``text`` that may be one JSON object: fenced blocks, then first ``{`` to last ``}``."""
    out = [m.group(1) for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        out.append(text[start : end + 1])
    return out


def _strings(value: object) -> str:
    """A JSON value as text: a string as it is, a list of strings one per line, anything else nothing."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(v.strip() for v in value if isinstance(v, str) and v.strip())
    return ""
