"""The default ``max_new_tokens`` of a local LMM by model family: reasoning models get room to think.

An R1-style reasoning model writes ``<think>...</think>`` before its answer, so a budget sized for a
verdict and a short explanation cuts most of its answers (spotfake then counts them as truncated, see
:mod:`harness.scoring.reasoning`). ``--model-args max_new_tokens=N`` always wins; without it:

=====================================================  ======  ============================================
family (how it is recognised)                          tokens  source of the figure
=====================================================  ======  ============================================
reasoning: the chat template writes ``<think>``, or    2048    Veritas (ICLR'26) decodes up to 2,048 new
the model's name says so (:data:`REASONING_NAMES`:                tokens (EricTan7/Veritas README)
``thinking``, ``reasoning``, ``-r1``, ``veritas``,
``qvq``)
any other model                                        256     FakeVLM's published protocol (256 new
                                                               tokens), enough for a verdict and a
                                                               FakeClue-length explanation
=====================================================  ======  ============================================
"""

from __future__ import annotations

import re

ANSWER_MAX_NEW_TOKENS = 256
REASONING_MAX_NEW_TOKENS = 2048

REASONING_NAMES = re.compile(r"thinking|reasoning|veritas|qvq|(?:^|[-_/.])r1(?:$|[-_/.])", re.IGNORECASE)
"""Model names (hub id or folder name) of reasoning families."""


def default_max_new_tokens(model_name: str, chat_template: str | None) -> tuple[int, str]:
    """``(max_new_tokens, why)`` for a model without an explicit ``max_new_tokens`` (table above)."""
    if chat_template and "<think>" in chat_template:
        return REASONING_MAX_NEW_TOKENS, "reasoning model: its chat template writes <think>"
    if REASONING_NAMES.search(model_name):
        return REASONING_MAX_NEW_TOKENS, f"reasoning model: the name {model_name!r} says so"
    return ANSWER_MAX_NEW_TOKENS, "default for answer models"
