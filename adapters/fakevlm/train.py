"""Supervised fine-tuning of a LLaVA-style model on a task's reference answers (FakeVLM's recipe).

One code path for one CPU, one GPU, and many GPUs or nodes: the loop runs on HF ``accelerate``, so the same
command runs data-parallel under ``accelerate launch`` or ``torchrun`` (NCCL on GPUs, gloo on CPUs) and under
an accelerate DeepSpeed or FSDP configuration. The output folder is a Hugging Face model + processor that
``--model fakevlm --model-args path=DIR`` evaluates in the prompt format it was trained in.

:func:`train` runs the phases in order, each in its own module: configuration
(:mod:`~adapters.fakevlm.train_config`), data (:mod:`~adapters.fakevlm.train_data`), model
(:mod:`~adapters.fakevlm.train_model`), loop (:mod:`~adapters.fakevlm.train_loop`) and checkpoints and
saving (:mod:`~adapters.fakevlm.train_save`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spotfake.adapters.fakevlm.train_config import (
    CHECKPOINT_DIR,
    LOG_FILE,
    SUMMARY_FILE,
    Plan,
    TrainConfig,
    TrainResult,
    check_config,
    cpu_threads,
    derive_grad_accum,
    learning_rate,
    make_plan,
    mixed_precision,
)
from spotfake.adapters.fakevlm.train_loop import Progress, Session, run_loop
from spotfake.adapters.fakevlm.train_model import (
    configure_trainable,
    freeze_unused_vision_layers,
    param_groups,
    set_checkpointing,
)
from spotfake.adapters.fakevlm.train_save import (
    checkpoint_dirs,
    load_checkpoint,
    save_checkpoint,
    save_final,
    step_name,
    write_summary,
)
from spotfake.harness.errors import SpotfakeError

__all__ = [
    "CHECKPOINT_DIR",
    "LOG_FILE",
    "SUMMARY_FILE",
    "Plan",
    "TrainConfig",
    "TrainResult",
    "checkpoint_dirs",
    "configure_trainable",
    "derive_grad_accum",
    "freeze_unused_vision_layers",
    "make_plan",
    "param_groups",
    "set_checkpointing",
    "train",
]


def train(config: TrainConfig, log: Callable[[str], None] | None = None) -> TrainResult:
    """Run (or resume) one fine-tuning run and write the Hugging Face folder to ``config.output``."""
    import torch
    from accelerate import Accelerator, PartialState  # noqa: F401
    from torch.utils.data import DataLoader  # noqa: F401
    from transformers import AutoProcessor, LlavaForConditionalGeneration, get_scheduler  # noqa: F401

    from spotfake.adapters.fakevlm.train_data import base_corpus, load_training_task, task_conversations
    from spotfake.adapters.fakevlm.train_model import resolve_base
    from spotfake.adapters.fakevlm.train_save import refuse_overwrite

    # The stack is imported above, before the clock starts: wall times and samples/s measure the run.
    started = time.perf_counter()
    check_config(config)
    state = PartialState(cpu=config.cpu or not torch.cuda.is_available())
    say = _logger(log, state.is_main_process)
    output = Path(config.output)
    if state.device.type != "cuda":
        threads = cpu_threads(config.num_workers, state.num_processes)
        if threads:
            torch.set_num_threads(threads)
    task = load_training_task(config)
    conversations = task_conversations(task)
    existing = refuse_overwrite(output, config.resume)
    base = resolve_base(config, base_corpus(conversations), output, state)
    session = _prepare(config, state, base, conversations, say, started)
    step = _resume(session, existing)
    _announce(session, learning_rate(config), step)
    return _finish(session, run_loop(session, step), task)


def _prepare(
    config: TrainConfig, state: Any, base: str, conversations: list[Any], say: Any, started: float
) -> Session:
    """Accelerator, processor, model, data loader, optimizer and scheduler, prepared together."""
    from accelerate.utils import set_seed

    from spotfake.adapters.fakevlm.adapter import complete_llava_processor
    from spotfake.adapters.fakevlm.prompts import check_format
    from spotfake.adapters.fakevlm.train_data import make_loader, with_prompts
    from spotfake.adapters.fakevlm.train_model import build_model, load_processor

    on_gpu = state.device.type == "cuda"
    mixed = mixed_precision(config.precision, on_gpu)
    checkpointing = on_gpu if config.gradient_checkpointing is None else config.gradient_checkpointing
    world = state.num_processes
    accelerator = _accelerator(config, on_gpu, mixed, world)
    set_seed(config.seed)
    processor = load_processor(base, config)
    check_format(
        config.prompt_format,
        processor,
        where=f"--base {base} with --prompt-format chat",
        fix="pass --prompt-format raw, or --chat-template FILE.jinja",
    )
    model = build_model(base, config, mixed, checkpointing)
    # Older checkpoints (the released FakeVLM's) save no patch size: fill it so <image> expands as at evaluation.
    complete_llava_processor(processor, model.config)
    examples = with_prompts(conversations, config.prompt_format, processor)
    loader = make_loader(examples, processor, config, on_gpu=on_gpu)
    trainable = [p for p in model.parameters() if p.requires_grad]
    # accelerate shards the batches across processes (even_batches: the last ones are topped up).
    plan = make_plan(config, len(examples), world, -(-len(loader) // world))
    optimizer, scheduler = _optimizer_and_scheduler(model, config, plan, world, on_gpu)
    # One prepare call for all four, as DeepSpeed needs.
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    if len(loader) != plan.batches_per_epoch:
        raise SpotfakeError(
            f"internal: {len(loader)} batches per process per epoch, {plan.batches_per_epoch} planned"
        )
    return Session(
        accelerator=accelerator,
        model=model,
        optimizer=optimizer,
        loader=loader,
        scheduler=scheduler,
        trainable=trainable,
        plan=plan,
        config=config,
        output=Path(config.output),
        say=say,
        started=started,
        processor=processor,
        mixed=mixed,
        checkpointing=checkpointing,
    )


def _accelerator(config: TrainConfig, on_gpu: bool, mixed: str, world: int) -> Any:
    """The accelerator: device, mixed precision, accumulation from the global batch, a seeded sampler."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    grad_accum = config.grad_accum or derive_grad_accum(config.global_batch_size, config.batch_size, world)
    return Accelerator(
        cpu=not on_gpu,
        mixed_precision=mixed,
        gradient_accumulation_steps=grad_accum,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=config.seed),
    )


def _optimizer_and_scheduler(model: Any, config: TrainConfig, plan: Plan, world: int, on_gpu: bool) -> Any:
    """AdamW over the trainable parameters (fused on GPU) and the learning-rate schedule of the plan."""
    import torch
    from transformers import get_scheduler

    optimizer = torch.optim.AdamW(
        param_groups(model, config.weight_decay), lr=learning_rate(config), fused=on_gpu or None
    )
    # A prepared scheduler steps once per process per optimizer step, hence the world-size factor.
    scheduler = get_scheduler(
        config.lr_scheduler,
        optimizer,
        num_warmup_steps=plan.warmup_steps * world,
        num_training_steps=plan.total_steps * world,
    )
    return optimizer, scheduler


def _resume(session: Session, existing: list[Path]) -> int:
    """The step to start from: the newest checkpoint's with ``resume``, else 0."""
    if session.config.resume and existing:
        step = load_checkpoint(session.accelerator, existing[-1], session.plan, session.config.prompt_format)
        session.say(f"resumed from {existing[-1]} at step {step}/{session.plan.total_steps}")
        return step
    if session.config.resume:
        session.say(f"--resume: no checkpoint under {session.output / CHECKPOINT_DIR}; starting at step 0")
    return 0


def _announce(session: Session, lr: float, step: int) -> None:
    """Say what trains and how; start a fresh log unless resuming."""
    plan, config = session.plan, session.config
    n_params = sum(p.numel() for p in session.model.parameters())
    n_train = sum(p.numel() for p in session.trainable)
    session.say(
        f"training {n_train:,} of {n_params:,} parameters on {plan.examples} examples: {plan.total_steps} steps "
        f"x global batch {plan.global_batch_size} (batch {plan.batch_size} x accum {plan.grad_accum} x "
        f"{plan.world_size} process(es)), lr {lr:g}, {config.lr_scheduler} with {plan.warmup_steps} warm-up "
        f"steps, precision {session.mixed}, gradient checkpointing {'on' if session.checkpointing else 'off'}, "
        f"prompt format {config.prompt_format}"
    )
    if session.accelerator.is_main_process:
        session.output.mkdir(parents=True, exist_ok=True)
        if step == 0:
            (session.output / LOG_FILE).unlink(missing_ok=True)


def _finish(session: Session, progress: Progress, task: Any) -> TrainResult:
    """Save the model and the summary; the run's result."""

    accelerator, config, output = session.accelerator, session.config, session.output
    if config.keep_checkpoints and not any(
        p.name == step_name(progress.step) for p in checkpoint_dirs(output)
    ):
        save_checkpoint(accelerator, output, progress.step, session.plan, config)
    accelerator.wait_for_everyone()
    save_final(accelerator, session.model, session.processor, config, session.mixed)
    wall = time.perf_counter() - session.started
    trained = progress.step - progress.resumed_from
    result = TrainResult(
        output=output,
        steps=progress.step,
        resumed_from=progress.resumed_from,
        first_loss=progress.first_loss,
        last_loss=progress.last_loss,
        wall_s=wall,
        samples_per_s=progress.seen_samples / wall if trained else 0.0,
        plan=session.plan,
        main_process=accelerator.is_main_process,
    )
    if accelerator.is_main_process:
        summary = _summary(session, progress, task, wall)
        write_summary(output, summary, config)
    accelerator.wait_for_everyone()
    session.say(f"saved {output} after {progress.step} steps in {wall:.1f} s")
    accelerator.end_training()
    return result


def _summary(session: Session, progress: Progress, task: Any, wall: float) -> dict[str, Any]:
    """What ``training_summary.json`` records besides the configuration and the versions."""
    import torch

    config, accelerator = session.config, session.accelerator
    on_gpu = accelerator.device.type == "cuda"
    return {
        "base": str(config.base) if config.base else f"from_scratch:{config.from_scratch}",
        "data": data_record(task),
        "prompt_format": config.prompt_format,
        "lr": learning_rate(config),
        "precision": session.mixed,
        "gradient_checkpointing": session.checkpointing,
        "device": str(accelerator.device),
        "cpu_threads": None if on_gpu else torch.get_num_threads(),
        "plan": asdict(session.plan),
        "steps": progress.step,
        "resumed_from": progress.resumed_from,
        "first_loss": progress.first_loss,
        "last_loss": progress.last_loss,
        "wall_s": round(wall, 2),
        "tokens_this_process": progress.seen_tokens,
    }


def data_record(task: Any) -> dict[str, Any]:
    """What was trained on: the task, its version, reader arguments and data fingerprint."""
    return {
        "task": task.name,
        "task_version": task.spec.version,
        "task_args": {k: str(v) for k, v in task.args.items()},
        "data_root": str(task.data_root) if task.data_root is not None else None,
        "data_fingerprint": task.data_fingerprint,
    }


def _logger(log: Callable[[str], None] | None, main: bool) -> Callable[[str], None]:
    """Messages from the main process only, to ``log`` or stderr."""

    def say(message: str) -> None:
        if not main:
            return
        if log is not None:
            log(message)
        else:
            print(message, file=sys.stderr, flush=True)

    return say
