"""The built-in models, registered lazily so that `spotfake list models` imports no heavy library."""

from __future__ import annotations

from harness.registry import MODELS

BUILTIN_MODELS: list[tuple[str, str, str, str]] = [
    # name, "module:factory", kind, one-line description
    (
        "always-fake",
        "adapters.baselines:AlwaysFake",
        "baseline",
        "answers 'fake' for every image (never reads it)",
    ),
    (
        "always-real",
        "adapters.baselines:AlwaysReal",
        "baseline",
        "answers 'real' for every image (never reads it)",
    ),
    (
        "random",
        "adapters.baselines:RandomGuess",
        "baseline",
        "seeded coin flip per sample id (never reads the image)",
    ),
    (
        "fakevlm",
        "adapters.fakevlm.adapter:FakeVLM",
        "lmm",
        "FakeVLM (LLaVA-1.5 fine-tuned on FakeClue), published protocol",
    ),
    (
        "hf",
        "adapters.hf_lmm:HFImageTextModel",
        "lmm",
        "any transformers image-text-to-text model with its chat template",
    ),
    (
        "openai",
        "adapters.openai_api:OpenAIChatModel",
        "lmm",
        "OpenAI-compatible chat completions API (GPT-4o, vLLM, ...)",
    ),
    (
        "cnnspot",
        "adapters.experts.cnnspot:CNNSpot",
        "expert",
        "CNNSpot: ResNet-50 real/fake classifier (Wang et al. 2020)",
    ),
    (
        "univfd",
        "adapters.experts.univfd:UnivFD",
        "expert",
        "UnivFD: frozen CLIP ViT-L/14 + linear head (Ojha et al. 2023)",
    ),
    (
        "npr",
        "adapters.experts.npr:NPR",
        "expert",
        "NPR: neighbouring pixel relationships ResNet (Tan et al. 2024)",
    ),
    (
        "linear-probe",
        "adapters.demo_models:LinearProbe",
        "expert",
        "frozen EfficientNet-Lite0 + logistic head, trained on demo",
    ),
    ("npr-demo", "adapters.demo_models:NPRDemo", "expert", "small NPR-style CNN trained on the demo suite"),
    (
        "fakevlm-demo",
        "adapters.fakevlm.demo:FakeVLMDemo",
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
