"""Generation throughput of a LLaVA-1.5-7B-shaped model on one GPU, against the memory-bandwidth bound.

A LLaVA-1.5-7B-shaped ``LlavaForConditionalGeneration`` (CLIP ViT-L/14-336 + Llama-2-7B, random weights,
bf16) answers synthetic 336x336 images with FakeVLM's prompt shape (BOS + 576 image tokens + 10 text
tokens = 587 tokens) and exactly 256 new tokens (EOS suppressed), greedy, through ``generate`` with the
same generation config the adapters build (``adapters.generation.GreedySettings``). Settings measured:

- ``batch 1 / 16 / 64``: left padding to the longest prompt (all prompts are equally long here), as the
  ``fakevlm`` and ``hf`` adapters do;
- ``fakevlm-loop``: FakeVLM's released evaluation loop settings: batch 16, every prompt padded to 1024.

For each: samples/s end to end (image preprocessing on the CPU + vision tower + prefill + 256 decode
steps), generated tokens/s, the time of one decode step (from a 256-token run minus a 1-token run), peak
GPU memory, and the bound set by memory bandwidth: a decode step must read every language-model weight
once (plus the KV cache), so ``step >= bytes / bandwidth``. Bandwidth is both the card's nominal figure
(looked up by name) and a measured device-to-device copy.

    PYTHONPATH=. python benchmarks/gpu_generate.py --out /tmp/gpu.json      # ~5-7 min on an H100
    PYTHONPATH=. python benchmarks/gpu_generate.py --tiny                     # CPU dry run, ~1 min

Results are written after every setting, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llava15_shape import BOS_ID, EOS_ID, IMAGE_TOKEN_ID, LLAVA_7B, PAD_TOKEN_ID, TINY, Shape, llava15_config

NOMINAL_BANDWIDTH_GBS = (
    # (substring of torch.cuda.get_device_name(), GB/s); first match wins, so specific names come first
    ("H200", 4800.0),
    ("H100 NVL", 3900.0),
    ("H100 PCIe", 2000.0),
    ("H100", 3350.0),  # SXM5
    ("GH200", 4000.0),
    ("A100-SXM4-80GB", 2039.0),
    ("A100 80GB PCIe", 1935.0),
    ("A100", 1555.0),
    ("L40S", 864.0),
    ("A10G", 600.0),
    ("RTX 4090", 1008.0),
)

TEXT_IDS = [5228, 278, 1967, 3430, 1855, 29914, 29888, 1296, 29973, 13]
"""Ten text tokens, the length of Llama's tokenisation of "Does the image looks real/fake?"."""


@dataclass(frozen=True)
class Setting:
    """One measured configuration."""

    name: str
    batch_size: int
    n_samples: int
    pad_to: int | None = None


def build_model(shape: Shape, device: Any, dtype: Any) -> Any:
    """A randomly initialised LLaVA-1.5 of ``shape`` created directly on ``device`` in ``dtype``."""
    import torch
    from transformers import LlavaForConditionalGeneration

    config = llava15_config(shape)
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlavaForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    model.generation_config.pad_token_id = PAD_TOKEN_ID
    model.generation_config.bos_token_id = BOS_ID
    model.generation_config.eos_token_id = EOS_ID
    return model.eval()


def image_processor(shape: Shape) -> Any:
    """LLaVA-1.5's CLIP preprocessing (resize the short side, centre crop, OpenAI CLIP mean/std)."""
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(
        size={"shortest_edge": shape.image_size},
        crop_size={"height": shape.image_size, "width": shape.image_size},
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
    )


def synthetic_images(n: int, side: int, seed: int) -> list[Any]:
    """``n`` random RGB images of ``side`` x ``side`` pixels."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(n)]


def prompt_batch(batch: int, n_image_tokens: int, pad_to: int | None, device: Any) -> tuple[Any, Any]:
    """``input_ids`` and ``attention_mask`` for ``batch`` prompts, left padded to ``pad_to`` if given."""
    import torch

    ids = [BOS_ID] + [IMAGE_TOKEN_ID] * n_image_tokens + TEXT_IDS
    length = max(len(ids), pad_to or 0)
    pad = length - len(ids)
    input_ids = torch.tensor([[PAD_TOKEN_ID] * pad + ids] * batch, device=device)
    mask = torch.tensor([[0] * pad + [1] * len(ids)] * batch, device=device)
    return input_ids, mask


def sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measured_bandwidth_gbs(device: Any, megabytes: int) -> float:
    """Device memory bandwidth from a large copy (bytes read + bytes written per second), best of 5."""
    import torch

    n = megabytes * 2**20 // 2
    src = torch.empty(n, dtype=torch.bfloat16, device=device).uniform_()
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync(device)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = min(best, time.perf_counter() - start)
    del src, dst
    return 2 * n * 2 / best / 1e9


def nominal_bandwidth_gbs(device_name: str) -> float | None:
    for key, value in NOMINAL_BANDWIDTH_GBS:
        if key in device_name:
            return value
    return None


def decode_bytes(model: Any) -> int:
    """Bytes of weights read per decode step: the decoder layers, final norm and LM head (the vision tower
    and projector run once per image, and only one embedding row per sequence is read)."""
    lm = model.model.language_model
    total = sum(p.numel() * p.element_size() for p in lm.layers.parameters())
    total += sum(p.numel() * p.element_size() for p in lm.norm.parameters())
    total += sum(p.numel() * p.element_size() for p in model.lm_head.parameters())
    return total


def kv_bytes_per_token(shape: Shape, element_size: int) -> int:
    """KV-cache bytes per token of context (keys and values, every layer)."""
    head_dim = shape.hidden // shape.heads
    return 2 * shape.layers * shape.heads * head_dim * element_size


def run_setting(
    model: Any,
    processor: Any,
    shape: Shape,
    setting: Setting,
    *,
    new_tokens: int,
    device: Any,
    dtype: Any,
    deadline: float,
) -> dict[str, Any]:
    """Time one setting batch by batch until its samples or the time budget run out."""
    import torch

    from spotfake.adapters.generation import GreedySettings, new_token_counts

    n_image_tokens = (shape.image_size // shape.patch_size) ** 2
    config = GreedySettings(new_tokens, min_new_tokens=new_tokens).generation_config(model, None)
    one_token = GreedySettings(1, min_new_tokens=1).generation_config(model, None)
    input_ids, mask = prompt_batch(setting.batch_size, n_image_tokens, setting.pad_to, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    # prefill alone (vision tower + prompt), to split a full run into prefill and decode steps
    images = synthetic_images(setting.batch_size, shape.image_size, seed=10_000)
    pixels = processor(images, return_tensors="pt")["pixel_values"].to(device, dtype)
    with torch.inference_mode():
        model.generate(
            input_ids=input_ids, attention_mask=mask, pixel_values=pixels, generation_config=one_token
        )
        sync(device)
        prefill_times = []
        for _ in range(2):
            start = time.perf_counter()
            model.generate(
                input_ids=input_ids, attention_mask=mask, pixel_values=pixels, generation_config=one_token
            )
            sync(device)
            prefill_times.append(time.perf_counter() - start)
    prefill_s = min(prefill_times)

    done = 0
    preprocess_s = generate_s = 0.0
    generated = 0
    batch_index = 0
    while done < setting.n_samples and time.perf_counter() < deadline:
        images = synthetic_images(setting.batch_size, shape.image_size, seed=batch_index)  # "decoded" already
        t0 = time.perf_counter()
        pixels = processor(images, return_tensors="pt")["pixel_values"].to(device, dtype)
        sync(device)
        t1 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids, attention_mask=mask, pixel_values=pixels, generation_config=config
            )
        sync(device)
        t2 = time.perf_counter()
        counts = new_token_counts(out[:, input_ids.shape[1] :].cpu(), [])
        generated += sum(counts)
        preprocess_s += t1 - t0
        generate_s += t2 - t1
        done += setting.batch_size
        batch_index += 1
    if done == 0:
        return {"setting": setting.name, "skipped": "time budget spent"}
    batches = done // setting.batch_size
    step_s = max(0.0, (generate_s / batches - prefill_s) / max(1, new_tokens - 1))
    return {
        "setting": setting.name,
        "batch_size": setting.batch_size,
        "prompt_tokens": int(input_ids.shape[1]),
        "pad_to": setting.pad_to,
        "n_samples": done,
        "new_tokens_per_sample": new_tokens,
        "generated_tokens": generated,
        "seconds_preprocess": round(preprocess_s, 4),
        "seconds_generate": round(generate_s, 4),
        "samples_per_s": round(done / (preprocess_s + generate_s), 3),
        "generated_tokens_per_s": round(generated / generate_s, 1),
        "prefill_s_per_batch": round(prefill_s, 4),
        "decode_step_ms": round(step_s * 1000, 3),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        if device.type == "cuda"
        else None,
    }


def add_bounds(
    row: dict[str, Any], weight_bytes: int, kv_per_token: int, bandwidth_gbs: dict[str, float]
) -> None:
    """Attach the bandwidth bound of a decode step and the measured step's share of it."""
    if "decode_step_ms" not in row:
        return
    batch = row["batch_size"]
    mean_context = row["prompt_tokens"] + row["new_tokens_per_sample"] / 2
    kv_bytes = batch * mean_context * kv_per_token
    step = row["decode_step_ms"] / 1000
    row["bytes_per_step_weights_gb"] = round(weight_bytes / 1e9, 3)
    row["bytes_per_step_kv_mean_gb"] = round(kv_bytes / 1e9, 3)
    for label, gbs in bandwidth_gbs.items():
        bound_weights = weight_bytes / (gbs * 1e9)
        bound_all = (weight_bytes + kv_bytes) / (gbs * 1e9)
        row[f"bound_{label}"] = {
            "bandwidth_gb_s": round(gbs, 1),
            "min_step_ms_weights": round(bound_weights * 1000, 3),
            "min_step_ms_weights_kv": round(bound_all * 1000, 3),
            "max_tokens_per_s_weights": round(batch / bound_weights, 1),
            "decode_share_of_bound_weights": round(bound_weights / step, 3) if step else None,
            "decode_share_of_bound_weights_kv": round(bound_all / step, 3) if step else None,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shape on CPU (dry run of every code path)")
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument(
        "--new-tokens", type=int, default=None, help="forced new tokens (default 256; --tiny 8)"
    )
    parser.add_argument(
        "--n-best", type=int, default=None, help="samples at batch 64 (default 512; --tiny 8)"
    )
    parser.add_argument(
        "--n-mid", type=int, default=None, help="samples at batch 16 and in the FakeVLM loop (64)"
    )
    parser.add_argument("--n-single", type=int, default=None, help="samples at batch 1 (default 4; --tiny 2)")
    parser.add_argument(
        "--dtype", choices=["bfloat16", "float16", "float32"], help="default: bf16 on GPU, fp32 on CPU"
    )
    parser.add_argument("--budget-s", type=float, default=480.0, help="stop starting new batches after this")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")) / "gpu_generate.json")
    args = parser.parse_args(argv)

    import torch
    import transformers

    started = time.perf_counter()
    deadline = started + args.budget_s
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() and not args.tiny else "cpu"))
    shape = TINY if args.tiny else LLAVA_7B
    dtype = (
        getattr(torch, args.dtype)
        if args.dtype
        else torch.bfloat16
        if device.type == "cuda"
        else torch.float32
    )
    new_tokens = args.new_tokens or (8 if args.tiny else 256)
    n_best = args.n_best or (8 if args.tiny else 512)
    n_mid = args.n_mid or (8 if args.tiny else 64)
    n_single = args.n_single or (2 if args.tiny else 4)
    big, mid = (8, 4) if args.tiny else (64, 16)
    settings = [
        Setting(f"batch {big}", big, n_best),
        Setting(f"batch {mid}", mid, n_mid),
        Setting(f"fakevlm-loop (batch {mid}, padded to 1024)", mid, n_mid, pad_to=1024),
        Setting("batch 1", 1, n_single),
    ]
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    )
    print(
        f"device: {device_name}; shape: {'tiny' if args.tiny else 'LLaVA-1.5-7B'}; dtype {dtype}", flush=True
    )

    t0 = time.perf_counter()
    model = build_model(shape, device, dtype)
    sync(device)
    build_s = time.perf_counter() - t0
    processor = image_processor(shape)
    n_params = sum(p.numel() for p in model.parameters())
    weight_bytes = decode_bytes(model)
    kv_per_token = kv_bytes_per_token(shape, torch.finfo(dtype).bits // 8)
    bandwidth = {"measured_copy": measured_bandwidth_gbs(device, 256 if args.tiny else 4096)}
    nominal = nominal_bandwidth_gbs(device_name) if device.type == "cuda" else None
    if nominal:
        bandwidth["nominal"] = nominal
    print(
        f"built {n_params / 1e9:.2f}B parameters in {build_s:.1f}s; decode reads {weight_bytes / 1e9:.2f} GB "
        f"of weights per step; bandwidth {', '.join(f'{k} {v:.0f} GB/s' for k, v in bandwidth.items())}",
        flush=True,
    )
    report: dict[str, Any] = {
        "benchmark": "gpu_generate",
        "command": "python benchmarks/gpu_generate.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "device": device_name,
        "shape": "tiny" if args.tiny else "llava-1.5-7b",
        "dtype": str(dtype).removeprefix("torch."),
        "parameters": n_params,
        "decode_weight_bytes": weight_bytes,
        "kv_bytes_per_token": kv_per_token,
        "bandwidth_gb_s": {k: round(v, 1) for k, v in bandwidth.items()},
        "build_s": round(build_s, 2),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "results": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    for setting in settings:
        try:
            row = run_setting(
                model,
                processor,
                shape,
                setting,
                new_tokens=new_tokens,
                device=device,
                dtype=dtype,
                deadline=deadline,
            )
        except torch.OutOfMemoryError as exc:
            row = {"setting": setting.name, "error": f"out of memory: {str(exc).splitlines()[0]}"}
            if device.type == "cuda":
                torch.cuda.empty_cache()
        add_bounds(row, weight_bytes, kv_per_token, bandwidth)
        report["results"].append(row)
        report["elapsed_s"] = round(time.perf_counter() - started, 1)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        summary = (
            f"{row['samples_per_s']:8.2f} samples/s, {row['generated_tokens_per_s']:9.1f} tok/s, "
            f"step {row['decode_step_ms']:.2f} ms"
            if "samples_per_s" in row
            else str(row.get("error") or row.get("skipped"))
        )
        for label in bandwidth:
            bound = row.get(f"bound_{label}")
            if bound:
                summary += (
                    f"; {label}: bound {bound['min_step_ms_weights']:.2f} ms (weights) /"
                    f" {bound['min_step_ms_weights_kv']:.2f} ms (+KV), share"
                    f" {bound['decode_share_of_bound_weights']} / {bound['decode_share_of_bound_weights_kv']}"
                )
        print(f"{setting.name:<42} {summary}", flush=True)
    print(f"wrote {args.out} after {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
