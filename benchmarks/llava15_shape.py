"""LLaVA-1.5-shaped models with random weights, shared by the GPU benchmark scripts.

The shape and the config choices follow llava-hf/llava-1.5-7b-hf: a CLIP ViT-L/14-336 tower (quick GELU,
features from the next-to-last layer, CLS dropped), a 2-layer GELU projector and a Llama-2-7B decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGE_TOKEN_ID, PAD_TOKEN_ID, BOS_ID, EOS_ID = 32000, 32001, 1, 2


@dataclass(frozen=True)
class Shape:
    """A LLaVA's dimensions (CLIP vision tower + Llama decoder); ``kv_heads`` None means ``heads``."""

    vision_hidden: int
    vision_intermediate: int
    vision_layers: int
    vision_heads: int
    image_size: int
    patch_size: int
    hidden: int
    intermediate: int
    layers: int
    heads: int
    vocab: int = 32064
    kv_heads: int | None = None

    @property
    def key_value_heads(self) -> int:
        return self.kv_heads or self.heads


LLAVA_7B = Shape(1024, 4096, 24, 16, 336, 14, 4096, 11008, 32, 32)
TINY = Shape(32, 64, 2, 2, 336, 14, 64, 128, 2, 2)


def llava15_config(shape: Shape) -> Any:
    """A ``LlavaConfig`` of ``shape`` with LLaVA-1.5's choices."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    return LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=shape.vision_hidden,
            intermediate_size=shape.vision_intermediate,
            num_hidden_layers=shape.vision_layers,
            num_attention_heads=shape.vision_heads,
            image_size=shape.image_size,
            patch_size=shape.patch_size,
            projection_dim=768,
            hidden_act="quick_gelu",
        ),
        text_config=LlamaConfig(
            vocab_size=shape.vocab,
            hidden_size=shape.hidden,
            intermediate_size=shape.intermediate,
            num_hidden_layers=shape.layers,
            num_attention_heads=shape.heads,
            num_key_value_heads=shape.key_value_heads,
            max_position_embeddings=4096,
            rms_norm_eps=1e-5,
            pad_token_id=PAD_TOKEN_ID,
            bos_token_id=BOS_ID,
            eos_token_id=EOS_ID,
        ),
        image_token_index=IMAGE_TOKEN_ID,
        image_seq_length=(shape.image_size // shape.patch_size) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        projector_hidden_act="gelu",
        pad_token_id=PAD_TOKEN_ID,
    )
