"""The loop phase of FakeVLM training: micro-batches, gradient accumulation, logging, periodic checkpoints.

Everything is prepared by :func:`adapters.fakevlm.train.train`; this module only steps. A resumed run
re-creates the epoch's shuffle from the seed and skips the batches its checkpoint had already seen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotfake.adapters.fakevlm.train_config import LOG_FILE, Plan, TrainConfig
from spotfake.adapters.fakevlm.train_save import save_checkpoint
from spotfake.harness.errors import SpotfakeError


@dataclass
class Session:
    """What the loop steps: the prepared objects of one run and where it writes."""

    accelerator: Any
    model: Any
    optimizer: Any
    loader: Any
    scheduler: Any
    trainable: list[Any]
    plan: Plan
    config: TrainConfig
    output: Path
    say: Callable[[str], None]
    started: float
    processor: Any
    mixed: str
    """accelerate's mixed-precision name (``no``, ``bf16``, ``fp16``)."""
    checkpointing: bool


@dataclass
class Progress:
    """Where the loop is: optimizer steps done, losses per step, samples and tokens seen."""

    step: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    seen_samples: int = 0
    seen_tokens: int = 0

    @property
    def first_loss(self) -> float | None:
        """The mean loss of the first optimizer step of this process's run (None before any)."""
        return self.losses[0] if self.losses else None

    @property
    def last_loss(self) -> float | None:
        """The mean loss of the latest optimizer step (None before any)."""
        return self.losses[-1] if self.losses else None


class Window:
    """Micro-batch losses and sample counts since the last optimizer step (summed without a sync)."""

    def __init__(self, device: Any) -> None:
        import torch

        self.loss = torch.zeros((), device=device)
        self.tokens = torch.zeros((), dtype=torch.long, device=device)
        self.micro = 0
        self.samples = 0

    def add(self, loss: Any, batch: dict[str, Any]) -> None:
        """Count one micro-batch."""
        self.loss += loss.detach().float()
        self.micro += 1
        self.samples += batch["input_ids"].shape[0]
        self.tokens += batch["attention_mask"].sum()

    def close(self, accelerator: Any) -> tuple[float, int]:
        """Mean loss and samples over every process since the last step; then start a new window."""
        import torch

        mean_loss = accelerator.reduce(self.loss / self.micro, reduction="mean").item()
        samples = int(accelerator.reduce(torch.tensor(self.samples, device=accelerator.device)).item())
        self.loss.zero_()
        self.micro = self.samples = 0
        return float(mean_loss), samples


def run_loop(session: Session, step: int) -> Progress:
    """Train from optimizer step ``step`` to the plan's total; return the progress made."""
    plan, accelerator = session.plan, session.accelerator
    progress = Progress(step=step, resumed_from=step)
    window = Window(accelerator.device)
    tick = time.perf_counter()
    session.model.train()
    start_epoch, skip_batches = divmod(step, plan.updates_per_epoch)
    skip_batches *= plan.grad_accum
    done = step >= plan.total_steps
    for epoch in range(start_epoch, plan.epochs):
        if done:
            break
        session.loader.set_epoch(epoch)
        batches = session.loader
        if epoch == start_epoch:
            batches = accelerator.skip_first_batches(session.loader, skip_batches)
        for batch in one_line_errors(batches):
            loss, grad_norm = micro_step(session, batch)
            window.add(loss, batch)
            if not accelerator.sync_gradients:
                continue
            finish_step(session, progress, window, grad_norm, tick)
            if progress.step >= plan.total_steps:
                done = True
                break
    progress.seen_tokens = int(window.tokens.item())
    return progress


def micro_step(session: Session, batch: dict[str, Any]) -> tuple[Any, Any]:
    """Forward, backward and (on the last micro-batch of a step) clip and update.

    Returns the micro-batch's loss and the gradient norm (None unless this micro-batch ended a step)."""
    accelerator, config = session.accelerator, session.config
    with accelerator.accumulate(session.model):
        loss = session.model(**batch).loss
        accelerator.backward(loss)
        grad_norm = None
        if accelerator.sync_gradients and config.max_grad_norm > 0:
            grad_norm = accelerator.clip_grad_norm_(session.trainable, config.max_grad_norm)
        session.optimizer.step()
        session.scheduler.step()
        session.optimizer.zero_grad(set_to_none=True)
    return loss, grad_norm


def finish_step(session: Session, progress: Progress, window: Window, grad_norm: Any, tick: float) -> None:
    """Count one optimizer step: record its loss, log it when due, checkpoint when due."""
    config, plan = session.config, session.plan
    mean_loss, samples = window.close(session.accelerator)
    progress.step += 1
    progress.seen_samples += samples
    progress.losses.append(mean_loss)
    step = progress.step
    if step % config.log_steps == 0 or step == progress.resumed_from + 1 or step == plan.total_steps:
        log_step(session, progress, grad_norm, tick)
    if config.save_steps > 0 and step % config.save_steps == 0 and step < plan.total_steps:
        save_checkpoint(session.accelerator, session.output, step, plan, config)


def log_step(session: Session, progress: Progress, grad_norm: Any, tick: float) -> None:
    """One line in ``train_log.jsonl`` (main process) and one on stderr."""
    now = time.perf_counter()
    mean_loss = progress.losses[-1]
    entry = {
        "step": progress.step,
        "epoch": round(progress.step / session.plan.updates_per_epoch, 4),
        "loss": round(mean_loss, 6),
        "lr": session.scheduler.get_last_lr()[0],
        "grad_norm": None if grad_norm is None else round(float(grad_norm), 6),
        "samples": progress.seen_samples,
        "elapsed_s": round(now - session.started, 3),
    }
    if session.accelerator.is_main_process:
        with (session.output / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    session.say(
        f"step {progress.step}/{session.plan.total_steps} loss {mean_loss:.4f} lr {entry['lr']:.3g} "
        f"({progress.seen_samples / max(now - tick, 1e-9):.1f} samples/s)"
    )


def one_line_errors(batches: Iterable[Any]) -> Iterator[Any]:
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
