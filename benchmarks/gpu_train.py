"""Training throughput of FakeVLM-style fine-tuning on one GPU: samples/s, tokens/s and model FLOPs utilisation.

Two settings, each a handful of optimizer steps on random weights and synthetic FakeClue-shaped batches
(BOS + 576 image tokens + the prompt + a 120-token answer, loss on the answer only), run through the
trainer's own pieces (``adapters.fakevlm.train``: trainable-parameter set-up, LoRA, gradient checkpointing,
AdamW groups) under ``accelerate`` with bf16 autocast:

- ``lora-7b``: a LLaVA-1.5-7B-shaped model (CLIP ViT-L/14-336 + Llama-2-7B), base weights in bf16 and
  frozen, LoRA r=128 / alpha=256 on the language model's and vision tower's linear layers, the projector
  fully trained, gradient checkpointing (LLaVA-1.5's LoRA recipe);
- ``full-1b``: a ~1.4B model (CLIP ViT-L/14-336 + a TinyLlama-1.1B-shaped decoder), full fine-tune with
  fp32 master weights, AdamW, gradient checkpointing (FakeVLM's recipe at a size that fits one GPU without
  sharding).

Model FLOPs per sample count the matrix multiplications that run (vision tower on 577 tokens, projector,
decoder and LM head on the whole sequence, attention scores and values): training = 3x forward for a full
fine-tune, 2x forward for LoRA (no weight gradients for the frozen base); the recomputation that gradient
checkpointing adds is not counted (it is hardware, not model, FLOPs). MFU = model FLOPs/s / the card's dense
bf16 peak (looked up by name, or ``--peak-tflops``).

    PYTHONPATH=. python benchmarks/gpu_train.py --out gpu_train.json      # one GPU; 6 + 2 steps per setting
    PYTHONPATH=. python benchmarks/gpu_train.py --tiny                    # CPU dry run (50 s here)
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llava15_shape import BOS_ID, IMAGE_TOKEN_ID, LLAVA_7B, TINY, Shape, llava15_config

PEAK_BF16_TFLOPS = (
    # (substring of torch.cuda.get_device_name(), dense bf16 TFLOP/s); first match wins
    ("H200", 989.4),
    ("H100 PCIe", 756.0),
    ("H100", 989.4),  # SXM5
    ("GH200", 989.4),
    ("A100", 312.0),
    ("L40S", 362.1),
    ("A10G", 70.0),
)

PROMPT_TOKENS = 10
"""Llama's tokenisation of "Does the image looks real/fake?"."""
ANSWER_TOKENS = 120
"""About a FakeClue explanation (60-90 words) plus EOS."""


LLAVA_1B = Shape(1024, 4096, 24, 16, 336, 14, 2048, 5632, 22, 32, kv_heads=4)


@dataclass(frozen=True)
class Setting:
    """One measured configuration."""

    name: str
    shape: Shape
    lora: bool
    batch_size: int
    steps: int
    warmup: int


def sequence_length(shape: Shape) -> int:
    """BOS + image tokens + prompt + answer."""
    return 1 + (shape.image_size // shape.patch_size) ** 2 + PROMPT_TOKENS + ANSWER_TOKENS


def forward_flops(shape: Shape) -> float:
    """Matrix-multiply FLOPs of one sample's forward pass (2 per multiply-add)."""
    v_tokens = (shape.image_size // shape.patch_size) ** 2 + 1
    dv, iv = shape.vision_hidden, shape.vision_intermediate
    vision = 2 * v_tokens * (3 * shape.patch_size**2 * dv)  # patch embedding
    vision += shape.vision_layers * (2 * v_tokens * (4 * dv * dv + 2 * dv * iv) + 4 * v_tokens**2 * dv)
    image_tokens = v_tokens - 1
    d, i = shape.hidden, shape.intermediate
    projector = 2 * image_tokens * (dv * d + d * d)
    seq = sequence_length(shape)
    kv = d * shape.key_value_heads // shape.heads
    per_layer = 2 * seq * (2 * d * d + 2 * d * kv + 3 * d * i) + 4 * seq * seq * d
    decoder = shape.layers * per_layer + 2 * seq * d * shape.vocab  # + LM head
    return float(vision + projector + decoder)


def peak_tflops(device_name: str, override: float | None) -> float | None:
    """The card's dense bf16 peak, by name, unless given."""
    if override:
        return override
    return next((tf for key, tf in PEAK_BF16_TFLOPS if key in device_name), None)


def synthetic_batch(shape: Shape, batch_size: int, device: Any, generator: Any) -> dict[str, Any]:
    """FakeClue-shaped inputs: random pixels, BOS + image tokens + prompt + answer; loss on the answer."""
    import torch

    image_tokens = (shape.image_size // shape.patch_size) ** 2
    text = torch.randint(3, 32000, (batch_size, PROMPT_TOKENS + ANSWER_TOKENS), generator=generator)
    ids = torch.cat(
        [torch.full((batch_size, 1), BOS_ID), torch.full((batch_size, image_tokens), IMAGE_TOKEN_ID), text],
        dim=1,
    )
    labels = ids.clone()
    labels[:, : 1 + image_tokens + PROMPT_TOKENS] = -100
    pixels = torch.randn(batch_size, 3, shape.image_size, shape.image_size, generator=generator)
    return {
        "input_ids": ids.to(device),
        "attention_mask": torch.ones_like(ids).to(device),
        "labels": labels.to(device),
        "pixel_values": pixels.to(device),
    }


def measure(setting: Setting, on_gpu: bool, peak: float | None) -> dict[str, Any]:
    """Build the model on the device, run warm-up + measured optimizer steps, return the figures."""
    import torch
    from accelerate import Accelerator
    from transformers import LlavaForConditionalGeneration

    from spotfake.adapters.fakevlm.train import (
        TrainConfig,
        configure_trainable,
        freeze_unused_vision_layers,
        param_groups,
        set_checkpointing,
    )

    accelerator = Accelerator(cpu=not on_gpu, mixed_precision="bf16" if on_gpu else "no")
    device = accelerator.device
    config = llava15_config(setting.shape)
    base_dtype = torch.bfloat16 if (setting.lora and on_gpu) else torch.float32
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device(device):
        model = LlavaForConditionalGeneration._from_config(config, dtype=base_dtype)
    build_s = time.perf_counter() - started
    train_config = TrainConfig(output=Path("unused"), data_root=Path("unused"), lora=setting.lora)
    if on_gpu:
        set_checkpointing(model, True)
    model.config.use_cache = False
    model = configure_trainable(model, train_config)
    freeze_unused_vision_layers(model)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.AdamW(param_groups(model, 0.0), lr=2e-5, fused=on_gpu or None)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    generator = torch.Generator().manual_seed(0)
    batch = synthetic_batch(setting.shape, setting.batch_size, device, generator)

    def step() -> float:
        loss = model(**batch).loss
        accelerator.backward(loss)
        accelerator.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    for _ in range(setting.warmup):
        step()
    if on_gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    losses = [step() for _ in range(setting.steps)]
    if on_gpu:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    samples = setting.batch_size * setting.steps
    seq = sequence_length(setting.shape)
    flops_per_sample = forward_flops(setting.shape) * (2 if setting.lora else 3)
    achieved = flops_per_sample * samples / seconds
    result = {
        "setting": setting.name,
        "shape": asdict(setting.shape),
        "lora": setting.lora,
        "batch_size": setting.batch_size,
        "sequence_length": seq,
        "steps": setting.steps,
        "warmup_steps": setting.warmup,
        "parameters": total,
        "trainable_parameters": trainable,
        "build_s": round(build_s, 2),
        "seconds": round(seconds, 3),
        "step_s": round(seconds / setting.steps, 4),
        "samples_per_s": round(samples / seconds, 3),
        "tokens_per_s": round(samples * seq / seconds, 1),
        "answer_tokens_per_s": round(samples * ANSWER_TOKENS / seconds, 1),
        "model_tflops_per_sample": round(flops_per_sample / 1e12, 4),
        "achieved_tflops": round(achieved / 1e12, 2),
        "mfu": round(achieved / (peak * 1e12), 4) if peak else None,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if on_gpu else None,
        "losses": [round(x, 4) for x in losses],
    }
    accelerator.free_memory()  # drops the accelerator's references; ours go when this function returns
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes on CPU: a dry run of the script")
    parser.add_argument("--only", help="comma-separated setting names (lora-7b, full-1b)")
    parser.add_argument("--steps", type=int, default=6, help="measured optimizer steps (default 6)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured steps first (default 2)")
    parser.add_argument("--batch-size", type=int, default=16, help="per-device batch (default 16)")
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak of the card, if not known by name")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)

    import torch

    on_gpu = torch.cuda.is_available() and not args.tiny
    if not on_gpu and not args.tiny:
        print("no GPU: run with --tiny for a CPU dry run", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = True
    big = {"lora-7b": (LLAVA_7B, True), "full-1b": (LLAVA_1B, False)}
    settings = [
        Setting(name, TINY if args.tiny else shape, lora, 2 if args.tiny else args.batch_size,
                2 if args.tiny else args.steps, 1 if args.tiny else args.warmup)
        for name, (shape, lora) in big.items()
        if not args.only or name in args.only.split(",")
    ]  # fmt: skip
    device_name = torch.cuda.get_device_name() if on_gpu else platform.processor() or "cpu"
    peak = peak_tflops(device_name, args.peak_tflops) if on_gpu else None
    report: dict[str, Any] = {
        "device": device_name,
        "peak_bf16_tflops": peak,
        "torch": torch.__version__,
        "results": [],
    }
    for setting in settings:
        try:
            result = measure(setting, on_gpu, peak)
        except torch.cuda.OutOfMemoryError as exc:  # report and go on to the next setting
            result = {"setting": setting.name, "error": f"out of memory: {str(exc).splitlines()[0]}"}
        gc.collect()
        if on_gpu:
            torch.cuda.empty_cache()
        report["results"].append(result)
        print(json.dumps({k: v for k, v in result.items() if k not in ("shape", "losses")}), flush=True)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
