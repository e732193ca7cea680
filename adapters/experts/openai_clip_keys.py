"""OpenAI's ``clip`` package layout (``clip.load(...)`` modules, e.g. inside DRCT's checkpoints) on
transformers' ``CLIPVisionModelWithProjection``: the architecture read from the tensors as ``clip.model.
build_model`` reads it, and an explicit key map.

Image tower (``visual.``) -> transformers:

- ``conv1.weight`` -> ``vision_model.embeddings.patch_embedding.weight``; ``class_embedding`` ->
  ``vision_model.embeddings.class_embedding``; ``positional_embedding`` ->
  ``vision_model.embeddings.position_embedding.weight``;
- ``ln_pre`` -> ``vision_model.pre_layrnorm``; ``ln_post`` -> ``vision_model.post_layernorm``;
- ``transformer.resblocks.N.attn.in_proj_weight``/``in_proj_bias`` (q, k, v stacked, as
  ``nn.MultiheadAttention`` keeps them) -> ``...layers.N.self_attn.{q,k,v}_proj``; ``attn.out_proj`` ->
  ``self_attn.out_proj``; ``ln_1``/``ln_2`` -> ``layer_norm1``/``layer_norm2``; ``mlp.c_fc``/``mlp.c_proj``
  -> ``mlp.fc1``/``mlp.fc2``;
- ``proj`` (width, embed) -> ``visual_projection.weight``, transposed.

Heads are ``width // 64`` and the activation QuickGELU, as in ``build_model``. The text tower, which an
image score never uses, is checked by name (every key ``build_model`` would load, none other) and dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from spotfake.harness.errors import SpotfakeError

BLOCK_RENAMES = {
    "attn.out_proj.weight": "self_attn.out_proj.weight",
    "attn.out_proj.bias": "self_attn.out_proj.bias",
    "ln_1.weight": "layer_norm1.weight",
    "ln_1.bias": "layer_norm1.bias",
    "ln_2.weight": "layer_norm2.weight",
    "ln_2.bias": "layer_norm2.bias",
    "mlp.c_fc.weight": "mlp.fc1.weight",
    "mlp.c_fc.bias": "mlp.fc1.bias",
    "mlp.c_proj.weight": "mlp.fc2.weight",
    "mlp.c_proj.bias": "mlp.fc2.bias",
}
"""Per residual block: OpenAI name -> transformers name (the q/k/v split is done apart)."""
TOP_RENAMES = {
    "conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "class_embedding": "vision_model.embeddings.class_embedding",
    "positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "ln_post.weight": "vision_model.post_layernorm.weight",
    "ln_post.bias": "vision_model.post_layernorm.bias",
}
TEXT_TOP = (
    "positional_embedding",
    "text_projection",
    "logit_scale",
    "token_embedding.weight",
    "ln_final.weight",
    "ln_final.bias",
)
TEXT_BLOCK = ("attn.in_proj_weight", "attn.in_proj_bias", *BLOCK_RENAMES)
BLOCKS = "transformer.resblocks."


def _few(keys: list[str], what: str, shown: int = 4) -> str:
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return f"{len(keys)} {what} {keys[:shown]}{more}"


def _layer_count(keys: Any, prefix: str) -> int:
    return len({k[len(prefix) :].split(".")[0] for k in keys if k.startswith(prefix)})


def vision_config(state: Mapping[str, torch.Tensor], path: Path) -> Any:
    """transformers' ``CLIPVisionConfig`` of the ``visual.`` tower in ``state``, read from its shapes."""
    from transformers import CLIPVisionConfig

    try:
        width, _, patch, _ = state["visual.conv1.weight"].shape
        grid = round((state["visual.positional_embedding"].shape[0] - 1) ** 0.5)
        return CLIPVisionConfig(
            hidden_size=int(width),
            intermediate_size=int(state[f"visual.{BLOCKS}0.mlp.c_fc.weight"].shape[0]),
            num_hidden_layers=_layer_count(state, f"visual.{BLOCKS}"),
            num_attention_heads=max(int(width) // 64, 1),
            image_size=int(patch) * grid,
            patch_size=int(patch),
            projection_dim=int(state["visual.proj"].shape[1]),
            hidden_act="quick_gelu",
            layer_norm_eps=1e-5,
        )
    except (KeyError, ValueError, IndexError) as exc:
        raise SpotfakeError(
            f"{path}: not an OpenAI CLIP ViT image tower (no {exc} of the right shape)"
        ) from None


def check_text_tower(state: Mapping[str, torch.Tensor], path: Path) -> None:
    """The non-``visual.`` keys must be exactly the OpenAI text tower's (for its number of blocks)."""
    text = {k for k in state if not k.startswith("visual.")}
    layers = _layer_count(text, BLOCKS)
    expected = set(TEXT_TOP) | {f"{BLOCKS}{i}.{name}" for i in range(layers) for name in TEXT_BLOCK}
    missing, unexpected = sorted(expected - text), sorted(text - expected)
    if missing or unexpected:
        raise SpotfakeError(
            f"{path}: the CLIP text tower does not have OpenAI's keys ({_few(missing, 'missing')}, "
            f"{_few(unexpected, 'unexpected')}); is it a clip.load ViT checkpoint?"
        )


def visual_to_transformers(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``visual.`` entries of an OpenAI CLIP state dict under transformers' names; entries it does not
    know keep their name (prefixed ``visual.``), so strict loading reports them."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith("visual."):
            continue
        name = key[len("visual.") :]
        if name in TOP_RENAMES:
            out[TOP_RENAMES[name]] = value
        elif name == "proj":
            out["visual_projection.weight"] = value.t().contiguous()
        elif name.startswith(BLOCKS) and name.count(".") >= 3:
            index, rest = name[len(BLOCKS) :].split(".", 1)
            base = f"vision_model.encoder.layers.{index}."
            if rest in ("attn.in_proj_weight", "attn.in_proj_bias"):
                kind = rest.rsplit("_", 1)[1]
                for part, tensor in zip("qkv", value.chunk(3, dim=0), strict=True):
                    out[f"{base}self_attn.{part}_proj.{kind}"] = tensor.contiguous()
            elif rest in BLOCK_RENAMES:
                out[base + BLOCK_RENAMES[rest]] = value
            else:
                out[key] = value
        else:
            out[key] = value
    return out
