"""Supervised fine-tuning of a LLaVA-style model on FakeClue-format conversations (FakeVLM's recipe).

One code path for one CPU, one GPU, and many GPUs or nodes: the loop runs on HF ``accelerate``, so the same
command runs data-parallel under ``accelerate launch`` or ``torchrun`` (NCCL on GPUs, gloo on CPUs) and under
an accelerate DeepSpeed or FSDP configuration. Defaults follow the FakeVLM paper: full fine-tune of vision
tower, projector and language model, lr 2e-5, 2 epochs, cosine schedule with 3% warm-up, no weight decay,
global batch 256, bf16 and gradient checkpointing on GPU, max length 1024. The output folder is a Hugging Face
model + processor that ``--model fakevlm --model-args path=DIR`` evaluates.

Checkpoints (``<output>/checkpoints/step-NNNNNNN``) hold the model, optimizer, scheduler and RNG states in
accelerate's format (safetensors for the weights; the rest is loaded with ``weights_only=True``) plus a
``trainer_state.json``; ``resume=True`` continues from the newest complete one at its step.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import SpotfakeError

PAPER_LR = 2e-5
"""FakeVLM's learning rate (the authors confirmed 2e-5; the paper's 2e-4 is a typo)."""
LORA_LR = 2e-4
"""LLaVA-1.5's LoRA learning rate, the default when ``lora=True`` and no lr is given."""

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "training_summary.json"
LORA_TARGETS = r".*(language_model|vision_tower).*\.(q_proj|k_proj|v_proj|o_proj|out_proj|gate_proj|up_proj|down_proj|fc1|fc2)$"
"""Linear layers of the language model and the vision tower that LoRA adapts; the projector trains fully."""


@dataclass
class TrainConfig:
    """Everything that defines a training run. ``None`` values are resolved at start (see :func:`resolve`)."""

    output: Path
    data_root: Path
    base: str | None = None
    """A local LLaVA folder (model + processor), or a hub id when online."""
    from_scratch: str | None = None
    """Instead of ``base``: build a fresh model from a config (``demo`` or a JSON file; see ``demo_base``)."""
    split: str = "train"
    annotations: Path | None = None
    image_root: Path | None = None
    epochs: float = 2.0
    max_steps: int | None = None
    lr: float | None = None
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    lr_scheduler: str = "cosine"
    global_batch_size: int = 256
    batch_size: int = 16
    """Per-device micro-batch."""
    grad_accum: int | None = None
    """Gradient-accumulation steps; derived from ``global_batch_size`` when not given."""
    max_length: int = 1024
    max_grad_norm: float = 1.0
    precision: str = "auto"
    """``auto`` (bf16 on a GPU that has it, else fp32), ``bf16``, ``fp16`` or ``fp32``."""
    gradient_checkpointing: bool | None = None
    """``None``: on when training on GPU, off on CPU."""
    freeze_vision_tower: bool = False
    lora: bool = False
    lora_r: int = 128
    lora_alpha: int = 256
    lora_dropout: float = 0.05
    lora_merge: bool = True
    """Merge the LoRA weights into the saved model (else save the adapter, loadable with peft)."""
    save_dtype: str = "auto"
    """Dtype of the saved weights: ``auto`` (bf16 after bf16 training, else fp32), ``fp32``, ``bf16``, ``fp16``."""
    num_workers: int = 2
    save_steps: int = 500
    save_total_limit: int = 2
    keep_checkpoints: bool = False
    resume: bool = False
    seed: int = 0
    log_steps: int = 10
    cpu: bool = False


@dataclass
class Plan:
    """The step arithmetic of a run; a resumed run must have the same plan."""

    world_size: int
    batch_size: int
    grad_accum: int
    global_batch_size: int
    examples: int
    batches_per_epoch: int
    updates_per_epoch: int
    total_steps: int
    warmup_steps: int
    epochs: int


@dataclass
class TrainResult:
    """What a finished run reports."""

    output: Path
    steps: int
    resumed_from: int
    first_loss: float | None
    last_loss: float | None
    wall_s: float
    samples_per_s: float
    plan: Plan
    main_process: bool = True
    """False on the other ranks of a data-parallel run (which should print nothing)."""


def derive_grad_accum(global_batch_size: int, batch_size: int, world_size: int) -> int:
    """Accumulation steps so that batch x accumulation x world size reaches the global batch (rounded up)."""
    if global_batch_size < 1 or batch_size < 1:
        raise SpotfakeError("--global-batch-size and --batch-size must be at least 1")
    return max(1, math.ceil(global_batch_size / (batch_size * world_size)))


def make_plan(config: TrainConfig, examples: int, world_size: int, batches_per_epoch: int) -> Plan:
    """Steps per epoch, total optimizer steps and warm-up steps for this data and world size."""
    grad_accum = config.grad_accum or derive_grad_accum(
        config.global_batch_size, config.batch_size, world_size
    )
    updates_per_epoch = math.ceil(batches_per_epoch / grad_accum)
    total = config.max_steps if config.max_steps is not None else math.ceil(config.epochs * updates_per_epoch)
    if total < 1:
        raise SpotfakeError("nothing to train: --epochs or --max-steps gives 0 optimizer steps")
    return Plan(
        world_size=world_size,
        batch_size=config.batch_size,
        grad_accum=grad_accum,
        global_batch_size=config.batch_size * grad_accum * world_size,
        examples=examples,
        batches_per_epoch=batches_per_epoch,
        updates_per_epoch=updates_per_epoch,
        total_steps=total,
        warmup_steps=math.ceil(config.warmup_ratio * total),
        epochs=math.ceil(total / updates_per_epoch),
    )


def checkpoint_dirs(output: Path) -> list[Path]:
    """Complete checkpoints under ``<output>/checkpoints``, oldest first (complete = has trainer_state.json)."""
    root = Path(output) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    found = [
        p for p in root.glob("step-*") if re.fullmatch(r"step-\d+", p.name) and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def train(config: TrainConfig, log: Callable[[str], None] | None = None) -> TrainResult:
    """Run (or resume) one fine-tuning run and write the Hugging Face folder to ``config.output``."""
    import torch
    from accelerate import Accelerator, PartialState
    from accelerate.utils import DataLoaderConfiguration, set_seed
    from torch.utils.data import DataLoader
    from transformers import AutoProcessor, LlavaForConditionalGeneration, get_scheduler

    from adapters.fakevlm.data import ConversationDataset, PaddingCollator, read_conversations

    started = time.perf_counter()
    cpu = config.cpu or not torch.cuda.is_available()
    state = PartialState(cpu=cpu)
    say = _logger(log, state.is_main_process)
    output = Path(config.output)
    on_gpu = state.device.type == "cuda"
    if not on_gpu:
        threads = cpu_threads(config.num_workers, state.num_processes)
        if threads:
            torch.set_num_threads(threads)
    mixed = mixed_precision(config.precision, on_gpu)
    checkpointing = on_gpu if config.gradient_checkpointing is None else config.gradient_checkpointing
    lr = config.lr if config.lr is not None else (LORA_LR if config.lora else PAPER_LR)

    conversations = read_conversations(
        Path(config.data_root), config.split, annotations=config.annotations, image_root=config.image_root
    )
    existing = checkpoint_dirs(output)
    if existing and not config.resume:
        raise SpotfakeError(
            f"{output} already holds checkpoints ({existing[-1].name}); pass --resume to continue that run, "
            "or choose an empty --output"
        )
    base = _resolve_base(config, conversations, output, state)

    grad_accum = config.grad_accum or derive_grad_accum(
        config.global_batch_size, config.batch_size, state.num_processes
    )
    accelerator = Accelerator(
        cpu=cpu,
        mixed_precision=mixed,
        gradient_accumulation_steps=grad_accum,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=config.seed),
    )
    set_seed(config.seed)

    processor = AutoProcessor.from_pretrained(base)
    model = _load_model(LlavaForConditionalGeneration, base, config, mixed)
    if checkpointing:
        set_checkpointing(model, True)
    model.config.use_cache = False
    model = configure_trainable(model, config)
    freeze_unused_vision_layers(model)

    dataset = ConversationDataset(conversations, processor, max_length=config.max_length)
    pad_id = processor.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = processor.tokenizer.eos_token_id
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=config.num_workers,
        collate_fn=PaddingCollator(pad_id, pad_to_multiple_of=8 if on_gpu else None),
        pin_memory=on_gpu,
        persistent_workers=config.num_workers > 0,
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=lr, fused=on_gpu or None)
    world = state.num_processes
    # accelerate shards the batches across processes (even_batches: the last ones are topped up).
    plan = make_plan(config, len(conversations), world, math.ceil(len(loader) / world))
    if plan.grad_accum != grad_accum:  # cannot happen unless make_plan and derive disagree
        raise SpotfakeError(f"internal: gradient accumulation {plan.grad_accum} != {grad_accum}")
    # A prepared scheduler steps once per process per optimizer step, hence the world-size factor.
    scheduler = get_scheduler(
        config.lr_scheduler,
        optimizer,
        num_warmup_steps=plan.warmup_steps * world,
        num_training_steps=plan.total_steps * world,
    )
    # One prepare call for all four, as DeepSpeed needs.
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    if len(loader) != plan.batches_per_epoch:
        raise SpotfakeError(
            f"internal: {len(loader)} batches per process per epoch, {plan.batches_per_epoch} planned"
        )

    step = 0
    if config.resume and existing:
        step = _load_checkpoint(accelerator, existing[-1], plan)
        say(f"resumed from {existing[-1]} at step {step}/{plan.total_steps}")
    elif config.resume:
        say(f"--resume: no checkpoint under {output / CHECKPOINT_DIR}; starting at step 0")
    resumed_from = step

    n_params = sum(p.numel() for p in model.parameters())
    n_train = sum(p.numel() for p in trainable)
    say(
        f"training {n_train:,} of {n_params:,} parameters on {plan.examples} examples: {plan.total_steps} steps "
        f"x global batch {plan.global_batch_size} (batch {plan.batch_size} x accum {plan.grad_accum} x "
        f"{plan.world_size} process(es)), lr {lr:g}, {config.lr_scheduler} with {plan.warmup_steps} warm-up "
        f"steps, precision {mixed}, gradient checkpointing {'on' if checkpointing else 'off'}"
    )
    log_path = output / LOG_FILE
    if accelerator.is_main_process:
        output.mkdir(parents=True, exist_ok=True)
        if step == 0:
            log_path.unlink(missing_ok=True)

    model.train()
    losses: list[float] = []
    first_loss: float | None = None
    window_loss = torch.zeros((), device=accelerator.device)
    window_micro = 0
    seen_samples = 0
    seen_tokens = torch.zeros((), dtype=torch.long, device=accelerator.device)  # summed without a sync
    tick = time.perf_counter()
    window_samples = 0
    start_epoch, skip_batches = divmod(step, plan.updates_per_epoch)
    skip_batches *= plan.grad_accum
    done = step >= plan.total_steps
    for epoch in range(start_epoch, plan.epochs):
        if done:
            break
        loader.set_epoch(epoch)
        batches = accelerator.skip_first_batches(loader, skip_batches) if epoch == start_epoch else loader
        for batch in _one_line_errors(batches):
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                grad_norm = None
                if accelerator.sync_gradients and config.max_grad_norm > 0:
                    grad_norm = accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window_loss += loss.detach().float()
            window_micro += 1
            n_rows = batch["input_ids"].shape[0]
            window_samples += n_rows
            seen_tokens += batch["attention_mask"].sum()
            if not accelerator.sync_gradients:
                continue
            step += 1
            mean_loss = accelerator.reduce(window_loss / window_micro, reduction="mean").item()
            samples = int(accelerator.reduce(torch.tensor(window_samples, device=accelerator.device)).item())
            seen_samples += samples
            window_loss.zero_()
            window_micro = window_samples = 0
            losses.append(mean_loss)
            if first_loss is None:
                first_loss = mean_loss
            if step % config.log_steps == 0 or step == resumed_from + 1 or step == plan.total_steps:
                now = time.perf_counter()
                entry = {
                    "step": step,
                    "epoch": round(step / plan.updates_per_epoch, 4),
                    "loss": round(mean_loss, 6),
                    "lr": scheduler.get_last_lr()[0],
                    "grad_norm": None if grad_norm is None else round(float(grad_norm), 6),
                    "samples": seen_samples,
                    "elapsed_s": round(now - started, 3),
                }
                if accelerator.is_main_process:
                    with log_path.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(entry) + "\n")
                say(
                    f"step {step}/{plan.total_steps} loss {mean_loss:.4f} lr {entry['lr']:.3g} "
                    f"({seen_samples / max(now - tick, 1e-9):.1f} samples/s)"
                )
            if config.save_steps > 0 and step % config.save_steps == 0 and step < plan.total_steps:
                _save_checkpoint(accelerator, output, step, plan, config)
            if step >= plan.total_steps:
                done = True
                break
    if config.keep_checkpoints and not any(p.name == _step_name(step) for p in checkpoint_dirs(output)):
        _save_checkpoint(accelerator, output, step, plan, config)

    accelerator.wait_for_everyone()
    _save_final(accelerator, model, processor, config, mixed)
    wall = time.perf_counter() - started
    trained = step - resumed_from
    result = TrainResult(
        output=output,
        steps=step,
        resumed_from=resumed_from,
        first_loss=first_loss,
        last_loss=losses[-1] if losses else None,
        wall_s=wall,
        samples_per_s=seen_samples / wall if trained else 0.0,
        plan=plan,
        main_process=accelerator.is_main_process,
    )
    if accelerator.is_main_process:
        summary = {
            "config": _jsonable(asdict(config)),
            "base": str(config.base) if config.base else f"from_scratch:{config.from_scratch}",
            "data": _data_fingerprint(config),
            "lr": lr,
            "precision": mixed,
            "gradient_checkpointing": checkpointing,
            "device": str(accelerator.device),
            "cpu_threads": None if on_gpu else torch.get_num_threads(),
            "plan": asdict(plan),
            "steps": step,
            "resumed_from": resumed_from,
            "first_loss": first_loss,
            "last_loss": result.last_loss,
            "wall_s": round(wall, 2),
            "tokens_this_process": int(seen_tokens.item()),
            "versions": _versions(),
        }
        (output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if not config.keep_checkpoints:
            shutil.rmtree(output / CHECKPOINT_DIR, ignore_errors=True)
    accelerator.wait_for_everyone()
    say(f"saved {output} after {step} steps in {wall:.1f} s")
    accelerator.end_training()
    return result


def _one_line_errors(batches: Any) -> Any:
    """Iterate ``batches``; a SpotfakeError raised in a DataLoader worker (which torch re-raises with the
    worker's traceback in its message) becomes the original one-line error again."""
    iterator = iter(batches)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except SpotfakeError as exc:
            text = str(exc)
            marker = "SpotfakeError: "
            if marker in text:
                raise SpotfakeError(text.rsplit(marker, 1)[1].strip()) from None
            raise
        yield batch


def _logger(log: Callable[[str], None] | None, main: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if not main:
            return
        if log is not None:
            log(message)
        else:
            print(message, file=sys.stderr, flush=True)

    return say


def cpu_threads(num_workers: int, processes: int) -> int | None:
    """Compute threads per process for CPU training, unless ``OMP_NUM_THREADS`` says otherwise.

    The cores are shared by the training processes and their image-decoding workers; more compute threads
    than free cores make OpenMP threads spin against each other (measured here: 2 threads beside one
    worker on 2 cores ran 7x slower than 1 thread).
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes) - num_workers)


def mixed_precision(precision: str, on_gpu: bool) -> str:
    """accelerate's mixed-precision name for ``--precision`` on this device."""
    import torch

    if precision == "auto":
        return "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"
    names = {"bf16": "bf16", "fp16": "fp16", "fp32": "no"}
    if precision not in names:
        raise SpotfakeError(f"--precision {precision!r}: expected auto, bf16, fp16 or fp32")
    return names[precision]


def _resolve_base(config: TrainConfig, conversations: list[Any], output: Path, state: Any) -> str:
    """The base model folder; with ``from_scratch``, build it (on the main process) under the output."""
    if (config.base is None) == (config.from_scratch is None):
        raise SpotfakeError("give exactly one of --base PATH (a LLaVA folder) or --from-scratch CONFIG")
    if config.base is not None:
        base = Path(config.base)
        if not base.exists() and (base.is_absolute() or str(config.base).startswith(".")):
            raise SpotfakeError(
                f"--base {config.base}: no such folder; pass a LLaVA model folder (model + processor)"
            )
        return str(config.base)
    from adapters.fakevlm.demo_base import build_base

    folder = output / CHECKPOINT_DIR / "base"
    with state.main_process_first():
        if state.is_main_process and not (folder / "config.json").is_file():
            # Answers as training sees them: after the prompt and one space.
            corpus = [c.prompt for c in conversations] + [" " + c.answer for c in conversations]
            build_base(folder, config.from_scratch, corpus, seed=config.seed)
    return str(folder)


def _load_model(cls: Any, base: str, config: TrainConfig, mixed: str) -> Any:
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
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _step_name(step: int) -> str:
    return f"step-{step:07d}"


def _save_checkpoint(accelerator: Any, output: Path, step: int, plan: Plan, config: TrainConfig) -> None:
    """Save the full training state; ``trainer_state.json`` is written last and marks the checkpoint complete."""
    folder = output / CHECKPOINT_DIR / _step_name(step)
    accelerator.save_state(str(folder), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, "plan": asdict(plan)}
        (folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        complete = checkpoint_dirs(output)
        for old in complete[: max(0, len(complete) - max(1, config.save_total_limit))]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _load_checkpoint(accelerator: Any, folder: Path, plan: Plan) -> int:
    """Restore model, optimizer, scheduler and RNG states; the checkpoint's plan must match this run's."""
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
    if different:
        detail = ", ".join(f"{k} {a} then, {b} now" for k, (a, b) in different.items())
        raise SpotfakeError(
            f"cannot resume from {folder}: the run's plan changed ({detail}); resume with the same data, "
            "batch settings, steps and number of processes"
        )
    accelerator.load_state(str(folder))
    return step


def _save_final(accelerator: Any, model: Any, processor: Any, config: TrainConfig, mixed: str) -> None:
    """Write the Hugging Face folder: merged (or adapter) weights, config, generation config, processor."""
    import torch

    output = Path(config.output)
    unwrapped = accelerator.unwrap_model(model)
    state_dict = accelerator.get_state_dict(model)
    if not accelerator.is_main_process:
        return
    if config.lora:
        if not config.lora_merge:
            unwrapped.save_pretrained(output)
            processor.save_pretrained(output)
            return
        unwrapped = unwrapped.merge_and_unload()
        state_dict = None
    save_dtype = config.save_dtype
    if save_dtype == "auto":
        save_dtype = "bf16" if mixed == "bf16" else "fp32"
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if save_dtype not in dtypes:
        raise SpotfakeError(f"--save-dtype {config.save_dtype!r}: expected auto, fp32, bf16 or fp16")
    set_checkpointing(unwrapped, False)
    unwrapped.config.use_cache = True
    if state_dict is not None:
        state_dict = {
            k: v.to(dtypes[save_dtype]) if v.is_floating_point() else v for k, v in state_dict.items()
        }
    else:
        unwrapped.to(dtypes[save_dtype])
    tokenizer = processor.tokenizer
    generation = unwrapped.generation_config
    generation.eos_token_id = tokenizer.eos_token_id
    generation.pad_token_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    unwrapped.save_pretrained(output, state_dict=state_dict, safe_serialization=True)
    processor.save_pretrained(output)


def _data_fingerprint(config: TrainConfig) -> dict[str, str]:
    """The annotation file trained on and a short sha256 of its bytes."""
    import hashlib

    from adapters.fakevlm.data import annotation_path

    path = annotation_path(Path(config.data_root), config.split, config.annotations)
    return {"annotations": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "transformers", "accelerate", "peft"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    found["python"] = sys.version.split()[0]
    found["world_size"] = os.environ.get("WORLD_SIZE", "1")
    return found
