"""The model phase of FakeVLM training: the base folder, loading, what trains, the optimizer's groups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotfake.adapters.fakevlm.train_config import CHECKPOINT_DIR, TrainConfig
from spotfake.harness.errors import SpotfakeError

LORA_TARGETS = r".*(language_model|vision_tower).*\.(q_proj|k_proj|v_proj|o_proj|out_proj|gate_proj|up_proj|down_proj|fc1|fc2)$"
"""Linear layers of the language model and the vision tower that LoRA adapts; the projector trains fully."""


def resolve_base(config: TrainConfig, corpus: Sequence[str], output: Path, state: Any) -> str:
    """The base model folder; with ``from_scratch``, build it (on the main process) under the output.

    ``corpus`` is what a from-scratch tokenizer is trained on (see ``train_data.base_corpus``).
    """
    if config.base is not None:
        base = Path(config.base)
        if not base.exists() and (base.is_absolute() or str(config.base).startswith(".")):
            raise SpotfakeError(
                f"--base {config.base}: no such folder; pass a LLaVA model folder (model + processor)"
            )
        return str(config.base)
    from spotfake.adapters.fakevlm.demo_base import build_base

    if config.from_scratch is None:
        raise SpotfakeError("give exactly one of --base PATH (a LLaVA folder) or --from-scratch CONFIG")
    folder = output / CHECKPOINT_DIR / "base"
    with state.main_process_first():
        if state.is_main_process and not (folder / "config.json").is_file():
            build_base(folder, config.from_scratch, list(corpus), seed=config.seed)
    return str(folder)


def load_processor(base: str, config: TrainConfig) -> Any:
    """The base's processor (or ``--processor``'s), with ``--chat-template`` in place of its own template."""
    from transformers import AutoProcessor

    source = config.processor or base
    try:
        processor = AutoProcessor.from_pretrained(source)
    except (OSError, ValueError, TypeError) as exc:
        flag = "--processor" if config.processor else "--base"
        raise SpotfakeError(
            f"{flag} {source}: cannot load a processor from it ({str(exc).splitlines()[0]}); a checkpoint that "
            "ships none takes its base model's with --processor FOLDER (e.g. llava-hf/llava-1.5-7b-hf)"
        ) from None
    if config.chat_template is not None:
        processor.chat_template = Path(config.chat_template).read_text(encoding="utf-8")
    return processor


def load_model(cls: Any, base: str, config: TrainConfig, mixed: str) -> Any:
    """Load the base in fp32 (master weights); a LoRA base that stays frozen loads in the compute dtype."""
    import torch

    dtype = torch.float32
    if config.lora and mixed in ("bf16", "fp16"):
        dtype = torch.bfloat16 if mixed == "bf16" else torch.float16
    try:
        model = cls.from_pretrained(base, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise SpotfakeError(f"--base {base}: cannot load a LLaVA model from it ({exc})") from None
    if getattr(model.config, "model_type", None) != "llava":
        raise SpotfakeError(
            f"--base {base}: model_type {model.config.model_type!r}; FakeVLM training needs a LLaVA "
            "(LlavaForConditionalGeneration) base"
        )
    return model


def build_model(base: str, config: TrainConfig, mixed: str, checkpointing: bool) -> Any:
    """The base model ready to train: checkpointing as asked, no KV cache, trainable set chosen."""
    from transformers import LlavaForConditionalGeneration

    model = load_model(LlavaForConditionalGeneration, base, config, mixed)
    if checkpointing:
        set_checkpointing(model, True)
    model.config.use_cache = False
    model = configure_trainable(model, config)
    freeze_unused_vision_layers(model)
    return model


def configure_trainable(model: Any, config: TrainConfig) -> Any:
    """Full fine-tune (optionally with a frozen vision tower), or LoRA adapters + a fully trained projector."""
    import torch

    if config.lora:
        from peft import LoraConfig, get_peft_model

        targets = LORA_TARGETS
        if config.freeze_vision_tower:
            targets = targets.replace("(language_model|vision_tower)", "language_model")
        lora_config = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=targets,
            modules_to_save=["multi_modal_projector"],
        )
        model = get_peft_model(model, lora_config)
    else:
        model.requires_grad_(True)
        if config.freeze_vision_tower:
            model.model.vision_tower.requires_grad_(False)
    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
    return model


def freeze_unused_vision_layers(model: Any) -> list[str]:
    """Freeze vision-tower parameters that never reach the loss; return their names.

    LLaVA takes image features from ``vision_feature_layer`` (-2 in LLaVA-1.5), so the tower's later layers
    and its post-layernorm get no gradient. Frozen, they stay out of the optimizer, and DDP does not wait
    for gradients that never come ("parameters that were not used in producing loss").
    """
    config = model.config
    layers = config.vision_config.num_hidden_layers
    chosen = config.vision_feature_layer
    chosen = list(chosen) if isinstance(chosen, (list, tuple)) else [chosen]
    # hidden_states[k] is the output of encoder layer k-1 (k = 0 is the embeddings).
    deepest = max(k + layers + 1 if k < 0 else k for k in chosen)
    pattern = re.compile(r"vision_tower\..*encoder\.layers\.(\d+)\.")
    frozen = []
    for name, param in model.named_parameters():
        if "vision_tower" not in name or not param.requires_grad:
            continue
        match = pattern.search(name)
        unused = (match is not None and int(match.group(1)) >= deepest) or ".post_layernorm." in name
        unused = unused or ".head." in name
        if unused:
            param.requires_grad_(False)
            frozen.append(name)
    return frozen


def set_checkpointing(model: Any, on: bool) -> None:
    """Gradient (activation) checkpointing on or off, non-reentrant; transformers 5 renamed the methods."""
    if on:
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    elif hasattr(model, "activation_checkpointing_disable"):
        model.activation_checkpointing_disable()
    elif hasattr(model, "gradient_checkpointing_disable"):
        model.gradient_checkpointing_disable()


def param_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: biases and norm weights never decay (the usual transformer convention)."""
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
