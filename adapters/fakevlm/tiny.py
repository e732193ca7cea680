"""Tiny randomly initialised image-text models built from configs, with no download.

A byte-level BPE tokenizer is trained in memory on a few sentences, a LLaVA (CLIP vision tower + Llama)
or a Qwen2-VL is built from a tiny config, and both are saved as ordinary Hugging Face folders that load
through ``AutoProcessor`` and ``AutoModelForImageTextToText`` / ``LlavaForConditionalGeneration``.
They are used by the tests, the benchmarks and the small demo FakeVLM that is trained here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CORPUS: tuple[str, ...] = (
    "Does the image looks real/fake?",
    "This is a fake image. The edges of the hands are blurred and the fingers merge together.",
    "This is a real image. The lighting is consistent and the textures look natural.",
    "This is a fake image. The text on the sign is garbled and the shadows point in different directions.",
    "This is a real image. The skin shows fine pores and the reflections in the eyes match.",
    "Is this image real or fake? Answer with real or fake and explain the artifacts you see.",
    "The background is smooth, the hair strands are unnatural and the teeth are irregular.",
    "A photo of a cat sitting on a sofa next to a window with a view of the street.",
    "Yes. No. A. B. C. D. The answer is fake. The answer is real.",
)
"""Sentences the tiny tokenizer is trained on; " real" and " fake" become single tokens."""

LLAVA_SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<image>")
QWEN2_VL_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n"
    "{% else %}{{ message['role'] | upper }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
"""A LLaVA-1.5-style chat template ("USER: <image>\\n... ASSISTANT:") for the tiny model's hf tests."""

QWEN2_VL_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""The shape of Qwen2-VL's chat template (image parts become vision_start/image_pad/vision_end)."""


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


def _bos_template(tokenizer: Any, bos: str) -> None:
    """Make the tokenizer prepend ``bos`` to every sequence, as Llama's tokenizer does."""
    from tokenizers import processors

    bos_id = tokenizer.convert_tokens_to_ids(bos)
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)]
    )


def build_tiny_llava(
    output_dir: str | Path,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden: int = 32,
    layers: int = 2,
    corpus: Sequence[str] | None = None,
    chat_template: str | None = None,
    seed: int = 0,
) -> Path:
    """Build and save a tiny random LLaVA (CLIP vision tower + Llama) with its processor; return the folder.

    The folder loads with ``AutoProcessor`` and ``LlavaForConditionalGeneration`` (or
    ``AutoModelForImageTextToText``). ``chat_template`` (e.g. :data:`LLAVA_CHAT_TEMPLATE`) is stored on
    the processor and tokenizer; FakeVLM's protocol uses none.
    """
    from transformers import (
        CLIPImageProcessor,
        LlavaProcessor,
    )

    if image_size % patch_size:
        raise ValueError(f"image_size {image_size} must be a multiple of patch_size {patch_size}")
    heads = max(1, hidden // 16)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)

    tokenizer = train_byte_bpe(
        corpus or DEFAULT_CORPUS,
        LLAVA_SPECIAL_TOKENS,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        extra_special_tokens={"image_token": "<image>"},
    )
    _bos_template(tokenizer, "<s>")
    tokenizer.padding_side = "left"
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

    config = llava_config(
        tokenizer,
        image_size=image_size,
        patch_size=patch_size,
        vision=TowerShape(hidden, hidden * 2, layers, heads),
        text=TowerShape(hidden, hidden * 2, layers, heads),
        max_positions=512,
        vision_feature_layer=-2 if layers > 1 else -1,
    )
    return save_new_llava(config, tokenizer, processor, output, seed=seed)


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


def build_tiny_qwen2_vl(
    output_dir: str | Path,
    *,
    hidden: int = 32,
    layers: int = 2,
    image_size: int = 56,
    corpus: Sequence[str] | None = None,
    seed: int = 0,
) -> Path:
    """Build and save a tiny random Qwen2-VL with its processor and chat template; return the folder.

    Images are resized to about ``image_size`` pixels a side (patch 14, 2x2 merge), so a 56-pixel image
    becomes 4 image tokens.
    """
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
    )

    heads = max(1, hidden // 16)
    head_dim = hidden // heads
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)

    tokenizer = train_byte_bpe(
        corpus or DEFAULT_CORPUS,
        QWEN2_VL_SPECIAL_TOKENS,
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        extra_special_tokens={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"},
    )
    tokenizer.padding_side = "left"
    tokenizer.chat_template = QWEN2_VL_CHAT_TEMPLATE
    pixels = image_size * image_size
    image_processor = Qwen2VLImageProcessor(size={"shortest_edge": pixels, "longest_edge": pixels})
    try:
        from transformers import Qwen2VLVideoProcessor

        video_processor = Qwen2VLVideoProcessor(size={"shortest_edge": pixels, "longest_edge": pixels})
    except ImportError:  # pragma: no cover - the video processor needs torchvision
        video_processor = None
    processor = Qwen2VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=QWEN2_VL_CHAT_TEMPLATE,
    )
    section = head_dim // 2
    mrope = [section - 2 * (section // 3), section // 3, section // 3]
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "num_key_value_heads": heads,
            "max_position_embeddings": 512,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "bos_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "depth": layers,
            "embed_dim": hidden,
            "hidden_size": hidden,
            "num_heads": heads,
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(output)
    processor.save_pretrained(output)
    return output
