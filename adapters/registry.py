"""The built-in models, registered lazily so that `spotfake list models` imports no heavy library."""

from __future__ import annotations

from typing import Any

from spotfake.harness.registry import MODELS

BUILTIN_MODELS: list[tuple[str, str, str, str]] = [
    # name, "module:factory", kind, one-line description
    (
        "always-fake",
        "spotfake.adapters.baselines:AlwaysFake",
        "baseline",
        "answers 'fake' for every image (never reads it)",
    ),
    (
        "always-real",
        "spotfake.adapters.baselines:AlwaysReal",
        "baseline",
        "answers 'real' for every image (never reads it)",
    ),
    (
        "random",
        "spotfake.adapters.baselines:RandomGuess",
        "baseline",
        "seeded coin flip per sample id (never reads the image)",
    ),
    (
        "fakevlm",
        "spotfake.adapters.fakevlm.adapter:FakeVLM",
        "lmm",
        "FakeVLM (LLaVA-1.5 fine-tuned on FakeClue), published protocol",
    ),
    (
        "hf",
        "spotfake.adapters.hf_lmm:HFImageTextModel",
        "lmm",
        "any transformers image-text-to-text model with its chat template",
    ),
    (
        "openai",
        "spotfake.adapters.openai_api:OpenAIChatModel",
        "lmm",
        "OpenAI-compatible chat completions API (GPT-4o, vLLM, ...)",
    ),
    (
        "fakevlm-demo",
        "spotfake.adapters.fakevlm.demo:FakeVLMDemo",
        "lmm",
        "small LLaVA-style FakeVLM trained here on the demo suite",
    ),
]


EMBEDDED_MODELS = ("always-fake", "always-real", "random", "linear-probe", "npr-demo", "fakevlm-demo")
"""Models that ship with spotfake and need no download: `spotfake run` with no arguments runs them all."""


def register_builtin_models() -> None:
    """Entry point ``spotfake.models: builtin``: the rows above, then the experts of
    :mod:`spotfake.adapters.experts.catalog` (kind ``expert``, with their cards)."""
    from spotfake.adapters.experts.catalog import EXPERTS

    for name, target, kind, description in BUILTIN_MODELS:
        MODELS.register(name, target, description=description, kind=kind, embedded=name in EMBEDDED_MODELS)
    for row in EXPERTS:
        card: dict[str, Any] = dict(row.card())  # paper, year, weights licence, input rule
        MODELS.register(
            row.name,
            row.target,
            description=row.description,
            kind="expert",
            embedded=row.name in EMBEDDED_MODELS,
            **card,
        )
