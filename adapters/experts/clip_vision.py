"""The CLIP ViT-L/14 image tower shared by the CLIP-family experts (C2P-CLIP, RINE, Effort), built with
transformers from a config, never with downloaded weights.

``CLIPVisionModel`` holds what older transformers called ``CLIPModel.vision_model`` (``embeddings``,
``pre_layrnorm``, ``encoder.layers.N``, ``post_layernorm``) under the same key names, so the authors'
``vision_model.*`` keys load unchanged. Its ``pooler_output`` is the post-layernorm CLS token.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

VIT_L14: dict[str, Any] = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "projection_dim": 768,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "image_size": 224,
    "patch_size": 14,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
}
"""The vision config of ``openai/clip-vit-large-patch14`` (its ``config.json``, ``vision_config``)."""
ARCH_KEYS = tuple(VIT_L14)


def vision_config(config: str | None) -> Any:
    """A ``CLIPVisionConfig``: OpenAI's ViT-L/14, or the one in ``config`` (a JSON file or a folder's
    ``config.json``; a full CLIP config's ``vision_config`` is taken)."""
    from transformers import CLIPVisionConfig

    if not config:
        return CLIPVisionConfig(**VIT_L14)
    path = Path(config).expanduser()
    path = path / "config.json" if path.is_dir() else path
    if not path.is_file():
        raise SpotfakeError(f"config={config!r}: no CLIP config there (a config.json or its folder)")
    data = loads_strict(path.read_text(encoding="utf-8"), where=str(path))
    data = data.get("vision_config", data) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        raise SpotfakeError(f"{path}: expected a JSON object (a CLIP vision config)")
    return CLIPVisionConfig(**{k: v for k, v in data.items() if k in ARCH_KEYS})


def config_summary(config: Any) -> dict[str, Any]:
    """The architecture sizes of a CLIP vision config (recorded in settings)."""
    return {key: getattr(config, key) for key in ARCH_KEYS}


def drop_position_ids(state: Mapping[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Without ``*embeddings.position_ids``: a buffer transformers before 4.31 saved in state dicts and
    later versions no longer keep. It carries no weights; it is dropped only when it is ``arange(n)``."""
    out = dict(state)
    for key in [k for k in out if k.endswith("embeddings.position_ids")]:
        ids = out.pop(key)
        if not torch.equal(ids.reshape(-1).long(), torch.arange(ids.numel())):
            raise SpotfakeError(f"{path}: {key} is not 0..n-1; this checkpoint is not a plain CLIP")
    return out
