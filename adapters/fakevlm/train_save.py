"""The checkpoint and save phase of FakeVLM training.

Checkpoints (``<output>/checkpoints/step-NNNNNNN``) hold the model, optimizer, scheduler and RNG states in
accelerate's format (safetensors for the weights; the rest is loaded with ``weights_only=True``) plus a
``trainer_state.json`` written last, which marks the checkpoint complete. The final folder is a Hugging Face
model + processor, the prompt format it was trained in and a summary of the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spotfake.adapters.fakevlm.prompts import write_prompt_format
from spotfake.adapters.fakevlm.train_config import CHECKPOINT_DIR, STATE_FILE, SUMMARY_FILE, Plan, TrainConfig
from spotfake.harness.errors import SpotfakeError


def checkpoint_dirs(output: Path) -> list[Path]:
    """Complete checkpoints under ``<output>/checkpoints``, oldest first (complete = has trainer_state.json)."""
    root = Path(output) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    found = [
        p for p in root.glob("step-*") if re.fullmatch(r"step-\d+", p.name) and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def step_name(step: int) -> str:
    """The folder name of the checkpoint at ``step``."""
    return f"step-{step:07d}"


def refuse_overwrite(output: Path, resume: bool) -> list[Path]:
    """The output's complete checkpoints; holding some without ``resume`` is an error."""
    existing = checkpoint_dirs(output)
    if existing and not resume:
        raise SpotfakeError(
            f"{output} already holds checkpoints ({existing[-1].name}); pass --resume to continue that run, "
            "or choose an empty --output"
        )
    return existing


def save_checkpoint(accelerator: Any, output: Path, step: int, plan: Plan, config: TrainConfig) -> None:
    """Save the full training state; ``trainer_state.json`` is written last and marks the checkpoint complete."""
    folder = output / CHECKPOINT_DIR / step_name(step)
    accelerator.save_state(str(folder), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, "plan": asdict(plan), "prompt_format": config.prompt_format}
        (folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        complete = checkpoint_dirs(output)
        for old in complete[: max(0, len(complete) - max(1, config.save_total_limit))]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def load_checkpoint(accelerator: Any, folder: Path, plan: Plan, prompt_format: str) -> int:
    """Restore model, optimizer, scheduler and RNG states; the checkpoint's plan and prompt format must
    match this run's."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        step = int(state["step"])
        saved = state["plan"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpotfakeError(
            f"{folder / STATE_FILE}: unreadable checkpoint state ({exc}); delete that checkpoint"
        ) from None
    keys = ("world_size", "batch_size", "grad_accum", "examples", "total_steps")
    different = {k: (saved.get(k), getattr(plan, k)) for k in keys if saved.get(k) != getattr(plan, k)}
    if state.get("prompt_format", prompt_format) != prompt_format:
        different["prompt_format"] = (state["prompt_format"], prompt_format)
    if different:
        detail = ", ".join(f"{k} {a} then, {b} now" for k, (a, b) in different.items())
        raise SpotfakeError(
            f"cannot resume from {folder}: the run's plan changed ({detail}); resume with the same data, "
            "batch settings, steps, prompt format and number of processes"
        )
    accelerator.load_state(str(folder))
    return step


def save_dtype_of(config: TrainConfig, mixed: str) -> Any:
    """The torch dtype of the saved weights (``auto``: bf16 after bf16 training, else fp32)."""
    import torch

    name = config.save_dtype
    if name == "auto":
        name = "bf16" if mixed == "bf16" else "fp32"
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name not in dtypes:
        raise SpotfakeError(f"--save-dtype {config.save_dtype!r}: expected auto, fp32, bf16 or fp16")
    return dtypes[name]


def save_final(accelerator: Any, model: Any, processor: Any, config: TrainConfig, mixed: str) -> None:
    """Write the Hugging Face folder: merged (or adapter) weights, config, generation config, processor,
    and the prompt format the model was trained in."""
    output = Path(config.output)
    unwrapped = accelerator.unwrap_model(model)
    state_dict = accelerator.get_state_dict(model)
    if not accelerator.is_main_process:
        return
    write_prompt_format(output, config.prompt_format, processor)
    if config.lora:
        if not config.lora_merge:
            unwrapped.save_pretrained(output)
            processor.save_pretrained(output)
            return
        unwrapped = unwrapped.merge_and_unload()
        state_dict = None
    dtype = save_dtype_of(config, mixed)
    from spotfake.adapters.fakevlm.train_model import set_checkpointing

    set_checkpointing(unwrapped, False)
    unwrapped.config.use_cache = True
    if state_dict is not None:
        state_dict = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state_dict.items()}
    else:
        unwrapped.to(dtype)
    tokenizer = processor.tokenizer
    generation = unwrapped.generation_config
    generation.eos_token_id = tokenizer.eos_token_id
    generation.pad_token_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    unwrapped.save_pretrained(output, state_dict=state_dict, safe_serialization=True)
    processor.save_pretrained(output)


def write_summary(output: Path, summary: dict[str, Any], config: TrainConfig) -> None:
    """``training_summary.json`` (configuration, plan, losses, versions); drop the checkpoints unless kept."""
    record = {"config": jsonable(asdict(config)), **summary, "versions": versions()}
    (output / SUMMARY_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not config.keep_checkpoints:
        shutil.rmtree(output / CHECKPOINT_DIR, ignore_errors=True)


def jsonable(value: Any) -> Any:
    """``value`` with paths and other objects as strings, ready for ``json.dumps``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def versions() -> dict[str, str]:
    """Versions of the training stack, Python and the number of processes."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "transformers", "accelerate", "peft"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    found["python"] = sys.version.split()[0]
    found["world_size"] = os.environ.get("WORLD_SIZE", "1")
    return found
