"""Building a LLaVA from a config with no download: a byte-level BPE tokenizer trained in memory, a
``LlavaConfig`` (CLIP vision tower + Llama decoder) sized for it, and a randomly initialised model saved
with its processor as an ordinary Hugging Face folder.

``spotfake train fakevlm --from-scratch`` builds its base this way (:mod:`adapters.fakevlm.demo_base`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def train_byte_bpe(
    corpus: Sequence[str], special_tokens: Sequence[str], *, vocab_size: int = 400, **named_tokens: Any
) -> Any:
    """Train a byte-level BPE on ``corpus`` in memory and wrap it as a ``PreTrainedTokenizerFast``.

    ``named_tokens`` maps roles to special tokens (``pad_token="<pad>"``, ``bos_token=...``); every
    special token is kept whole and gets a low id in the order given.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(corpus), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **named_tokens)


def prepend_bos(tokenizer: Any, bos: str) -> None:
    """Make the tokenizer prepend ``bos`` to every sequence, as Llama's tokenizer does."""
    from tokenizers import processors

    bos_id = tokenizer.convert_tokens_to_ids(bos)
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)]
    )


LLAVA_SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<image>")


def llava_tokenizer(corpus: Sequence[str], *, vocab_size: int = 400) -> Any:
    """A byte-level BPE trained on ``corpus`` with LLaVA's special tokens (:data:`LLAVA_SPECIAL_TOKENS`):
    it prepends ``<s>`` as Llama's does and pads on the left."""
    tokenizer = train_byte_bpe(
        corpus,
        LLAVA_SPECIAL_TOKENS,
        vocab_size=vocab_size,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        extra_special_tokens={"image_token": "<image>"},
    )
    prepend_bos(tokenizer, "<s>")
    tokenizer.padding_side = "left"
    return tokenizer


def llava_processor(
    tokenizer: Any, *, image_size: int, patch_size: int, chat_template: str | None = None
) -> Any:
    """A ``LlavaProcessor`` for ``tokenizer``: square ``image_size`` images normalised to [-1, 1], cut in
    ``patch_size`` patches plus one class token. ``chat_template``, when given, is set on the tokenizer too."""
    from transformers import CLIPImageProcessor, LlavaProcessor

    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=chat_template,
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    return processor


@dataclass(frozen=True)
class TowerShape:
    """Width, MLP width, depth and attention heads of one transformer stack."""

    hidden: int
    intermediate: int
    layers: int
    heads: int


def llava_config(
    tokenizer: Any,
    *,
    image_size: int,
    patch_size: int,
    vision: TowerShape,
    text: TowerShape,
    max_positions: int,
    vision_feature_layer: int,
    tie_embeddings: bool = False,
) -> Any:
    """A LlavaConfig (CLIP vision tower + Llama decoder) sized for ``tokenizer`` and the image grid."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    vision_config = CLIPVisionConfig(
        hidden_size=vision.hidden,
        intermediate_size=vision.intermediate,
        num_hidden_layers=vision.layers,
        num_attention_heads=vision.heads,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=vision.hidden,
    )
    text_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=text.hidden,
        intermediate_size=text.intermediate,
        num_hidden_layers=text.layers,
        num_attention_heads=text.heads,
        num_key_value_heads=text.heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=tie_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return LlavaConfig(  # type: ignore[call-arg]  # pad_token_id: a PretrainedConfig keyword the stubs omit
        vision_config=vision_config,
        text_config=text_config,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=vision_feature_layer,
        image_seq_length=(image_size // patch_size) ** 2,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tie_embeddings,
    )


def save_new_llava(config: Any, tokenizer: Any, processor: Any, output: Path, *, seed: int) -> Path:
    """Initialise a LLaVA from ``config`` with ``seed``, set its generation ids, save it with ``processor``."""
    import torch
    from transformers import LlavaForConditionalGeneration

    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(output)
    processor.save_pretrained(output)
    return output
