"""A small LLaVA-style base built from a config, with a byte-level BPE tokenizer trained on the clue corpus.

This is the starting point of the demo FakeVLM (``spotfake train fakevlm --from-scratch demo ...``): a CLIP
vision tower and a Llama decoder joined by LLaVA's two-layer projector, sized to train on a 2-core CPU in
minutes. Nothing is downloaded; the tokenizer is trained here on the training split's prompts and answers,
so the templated clue vocabulary becomes a few hundred whole-word tokens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict


@dataclass(frozen=True)
class BaseConfig:
    """Shape of a from-scratch LLaVA. ``demo`` is :data:`DEMO_CONFIG`; a JSON file may set any field."""

    image_size: int = 64
    patch_size: int = 8
    vision_hidden: int = 128
    vision_layers: int = 3
    vision_heads: int = 4
    vision_intermediate: int = 256
    text_hidden: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_intermediate: int = 384
    vocab_size: int = 1024
    max_positions: int = 512
    tie_embeddings: bool = True


DEMO_CONFIG = BaseConfig()
"""The demo FakeVLM's shape: 64x64 images in 8x8 patches (64 image tokens), a 3-layer 128-wide ViT, a
2-layer 128-wide decoder and a 1,024-token vocabulary (tied embeddings): about 1.0M parameters. A 3-layer
192-wide decoder trained 3x slower on this CPU and, in the same time, learned the verdict worse."""


def load_base_config(name: str) -> BaseConfig:
    """``demo`` or the path of a JSON object with :class:`BaseConfig` fields."""
    if name == "demo":
        return DEMO_CONFIG
    path = Path(name)
    if not path.is_file():
        raise SpotfakeError(f"--from-scratch {name!r}: expected 'demo' or a JSON config file")
    values = loads_strict(path.read_text(encoding="utf-8"), where=str(path))
    known = {f.name for f in fields(BaseConfig)}
    if not isinstance(values, dict) or set(values) - known:
        unknown = sorted(set(values) - known) if isinstance(values, dict) else values
        raise SpotfakeError(f"{path}: unknown base-config keys {unknown}; known: {sorted(known)}")
    return BaseConfig(**values)


def build_base(
    output_dir: str | Path, config: str | BaseConfig, corpus: Sequence[str], *, seed: int = 0
) -> Path:
    """Train the tokenizer on ``corpus``, build the random LLaVA and save model + processor to ``output_dir``."""
    from spotfake.adapters.fakevlm.llava_build import (
        TowerShape,
        llava_config,
        llava_processor,
        llava_tokenizer,
        save_new_llava,
    )

    shape = load_base_config(config) if isinstance(config, str) else config
    if shape.image_size % shape.patch_size:
        raise SpotfakeError(f"base config: image_size {shape.image_size} is not a multiple of patch_size")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)

    texts = sorted(set(corpus))  # order-free, so the same data always gives the same tokenizer
    tokenizer = llava_tokenizer(texts, vocab_size=shape.vocab_size)
    processor = llava_processor(tokenizer, image_size=shape.image_size, patch_size=shape.patch_size)
    config = llava_config(
        tokenizer,
        image_size=shape.image_size,
        patch_size=shape.patch_size,
        vision=TowerShape(
            shape.vision_hidden, shape.vision_intermediate, shape.vision_layers, shape.vision_heads
        ),
        text=TowerShape(shape.text_hidden, shape.text_intermediate, shape.text_layers, shape.text_heads),
        max_positions=shape.max_positions,
        vision_feature_layer=-1,  # a tower trained from scratch has no "penultimate layer" habit to keep
        tie_embeddings=shape.tie_embeddings,
    )
    save_new_llava(config, tokenizer, processor, output, seed=seed)
    (output / "base_config.json").write_text(json.dumps(asdict(shape), indent=2) + "\n", encoding="utf-8")
    return output
