"""The configuration of a FakeVLM training run and its step arithmetic (no torch at import).

Defaults follow the FakeVLM paper: full fine-tune of vision tower, projector and language model, lr 2e-5,
2 epochs, cosine schedule with 3% warm-up, no weight decay, global batch 256, bf16 and gradient
checkpointing on GPU, max length 1024, examples in the base model's chat template (the upstream trainer's
format; ``prompt_format="raw"`` for the evaluation script's raw prompt).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from spotfake.adapters.fakevlm.prompts import PROMPT_FORMATS, TRAIN_DEFAULT_FORMAT
from spotfake.harness.errors import SpotfakeError

PAPER_LR = 2e-5
"""FakeVLM's learning rate (the authors confirmed 2e-5; the paper's 2e-4 is a typo)."""
LORA_LR = 2e-4
"""LLaVA-1.5's LoRA learning rate, the default when ``lora=True`` and no lr is given."""

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "training_summary.json"
DEFAULT_TASK = "fakeclue"
"""The task trained on when none is named: a FakeClue-format folder given as ``--data-root``."""


@dataclass
class TrainConfig:
    """Everything that defines a training run. ``None`` values are resolved at start."""

    output: Path
    data_root: Path | None = None
    """The task's data folder (``None``: the task's own default, e.g. the embedded demo suite)."""
    base: str | None = None
    """A local LLaVA folder (model + processor), or a hub id when online."""
    from_scratch: str | None = None
    """Instead of ``base``: build a fresh model from a config (``demo`` or a JSON file; see ``demo_base``)."""
    processor: str | None = None
    """The processor's folder or hub id when the base ships none (e.g. ``llava-hf/llava-1.5-7b-hf``)."""
    task: str = DEFAULT_TASK
    """The task whose samples (with reference answers) are the training set; a name or a task YAML."""
    task_args: dict[str, str] = field(default_factory=dict)
    """The task's reader arguments (``split`` below wins over a ``split`` here)."""
    split: str = "train"
    annotations: Path | None = None
    """FakeClue-format tasks: the annotation file (the reader's ``annotations`` argument)."""
    image_root: Path | None = None
    """FakeClue-format tasks: the folder image paths are relative to (the reader's ``image_dir``)."""
    prompt_format: str = TRAIN_DEFAULT_FORMAT
    """``chat`` (the base model's chat template, as FakeVLM's trainer) or ``raw`` (``<image>`` + question)."""
    chat_template: Path | None = None
    """A Jinja chat template file that replaces the base's own (or gives one to a base that has none)."""
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


def check_config(config: TrainConfig) -> None:
    """Refuse contradictory settings before anything is loaded (one line naming the flag)."""
    if (config.base is None) == (config.from_scratch is None):
        raise SpotfakeError("give exactly one of --base PATH (a LLaVA folder) or --from-scratch CONFIG")
    if config.prompt_format not in PROMPT_FORMATS:
        raise SpotfakeError(f"--prompt-format {config.prompt_format!r}: expected chat or raw")
    if config.from_scratch is not None and config.prompt_format == "chat" and config.chat_template is None:
        raise SpotfakeError("--from-scratch builds a base without a chat template; pass --prompt-format raw")
    if config.chat_template is not None:
        if config.prompt_format != "chat":
            raise SpotfakeError("--chat-template applies to --prompt-format chat only")
        if not Path(config.chat_template).is_file():
            raise SpotfakeError(f"--chat-template {config.chat_template}: no such file (give a .jinja file)")


def task_args(config: TrainConfig) -> dict[str, str]:
    """The reader arguments: ``task_args``, then ``split``, ``annotations`` and ``image_root`` on top."""
    args = {**config.task_args, "split": config.split}
    if config.annotations is not None:
        args["annotations"] = str(Path(config.annotations).absolute())
    if config.image_root is not None:
        args["image_dir"] = str(Path(config.image_root).absolute())
    return args


def learning_rate(config: TrainConfig) -> float:
    """The peak learning rate: the one given, else the paper's (or LLaVA's LoRA rate with ``lora``)."""
    if config.lr is not None:
        return config.lr
    return LORA_LR if config.lora else PAPER_LR


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
