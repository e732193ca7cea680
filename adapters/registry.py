"""The built-in models, registered lazily so that `spotfake list models` imports no heavy library."""

from __future__ import annotations

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
        "cnnspot",
        "spotfake.adapters.experts.cnnspot:CNNSpot",
        "expert",
        "CNNSpot: ResNet-50 real/fake classifier (Wang et al. 2020)",
    ),
    (
        "univfd",
        "spotfake.adapters.experts.univfd:UnivFD",
        "expert",
        "UnivFD: frozen CLIP ViT-L/14 + linear head (Ojha et al. 2023)",
    ),
    (
        "npr",
        "spotfake.adapters.experts.npr:NPR",
        "expert",
        "NPR: neighbouring pixel relationships ResNet (Tan et al. 2024)",
    ),
    (
        "linear-probe",
        "spotfake.adapters.demo_models:LinearProbe",
        "expert",
        "frozen EfficientNet-Lite0 + logistic head, trained on demo",
    ),
    (
        "npr-demo",
        "spotfake.adapters.demo_models:NPRDemo",
        "expert",
        "small NPR-style CNN trained on the demo suite",
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
    """Entry point ``spotfake.models: builtin``."""
    for name, target, kind, description in BUILTIN_MODELS:
        MODELS.register(name, target, description=description, kind=kind, embedded=name in EMBEDDED_MODELS)
