"""``spotfake train fakevlm``: fine-tune a LLaVA-style model on a task's reference answers (FakeVLM's recipe).

Imports nothing heavy at module level; torch and transformers load when the command runs. Also runnable as
``python -m spotfake.adapters.fakevlm.train_cli ...`` so that ``torchrun`` and ``accelerate launch`` can start it
on every process (``torchrun --nproc_per_node 8 -m adapters.fakevlm.train_cli --base ...``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require

if TYPE_CHECKING:
    from spotfake.adapters.fakevlm.train_config import TrainConfig


def register(parser: argparse.ArgumentParser) -> None:
    """Fine-tune a LLaVA model on a task's reference answers with FakeVLM's recipe (entry point train.fakevlm)."""
    parser.description = (
        "Supervised fine-tuning of a LLaVA model on a task split's reference answers (FakeClue's train split by "
        "default; any task whose samples carry references, e.g. --task ddvqa), loss on the answers only. "
        "Defaults are FakeVLM's recipe (full fine-tune, lr 2e-5, 2 epochs, cosine, 3% warm-up, global batch "
        "256, bf16 + gradient checkpointing on GPU, the base's chat template). Runs data-parallel under "
        "`accelerate launch` or `torchrun`."
    )
    model = parser.add_argument_group("model")
    source = model.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--base", help="LLaVA model folder (model + processor) to fine-tune, or a hub id when online"
    )
    source.add_argument(
        "--from-scratch",
        metavar="CONFIG",
        help="build a fresh small LLaVA instead: 'demo' or a JSON config file (tokenizer trained on the data)",
    )
    model.add_argument(
        "--processor",
        help="processor folder or hub id when the base ships none (e.g. llava-hf/llava-1.5-7b-hf)",
    )
    model.add_argument(
        "--freeze-vision-tower", action="store_true", help="train projector + language model only"
    )
    model.add_argument("--lora", action="store_true", help="LoRA adapters (peft) instead of a full fine-tune")
    model.add_argument("--lora-r", type=int, default=128, help="LoRA rank (default 128, as LLaVA-1.5)")
    model.add_argument("--lora-alpha", type=int, default=256, help="LoRA alpha (default 256)")
    model.add_argument("--lora-dropout", type=float, default=0.05, help="LoRA dropout (default 0.05)")
    model.add_argument(
        "--lora-adapter-only",
        action="store_true",
        help="save the LoRA adapter (peft format) instead of merging it into the saved model",
    )

    data = parser.add_argument_group("data")
    data.add_argument(
        "--task",
        default="fakeclue",
        help="task whose samples and reference answers are the training set (default fakeclue; a name or a YAML)",
    )
    data.add_argument(
        "--data-root", type=Path, help="the task's data folder (FakeClue: data_json/<split>.json + <split>/)"
    )
    data.add_argument("--split", help="task split to train on (default train)")
    data.add_argument("--task-args", help="more reader arguments key=value,... (as for spotfake run)")
    data.add_argument(
        "--annotations",
        type=Path,
        help="FakeClue-format tasks: annotation JSON file (default <data-root>/data_json/<split>.json)",
    )
    data.add_argument(
        "--image-root",
        type=Path,
        help="FakeClue-format tasks: folder image paths are relative to (default <data-root>/<split>)",
    )
    data.add_argument(
        "--prompt-format",
        default="chat",
        choices=["chat", "raw"],
        help="chat: the base model's chat template, as FakeVLM's trainer (default); raw: <image> + question, "
        "as FakeVLM's evaluation script. Recorded in the output; the fakevlm adapter evaluates in it",
    )
    data.add_argument(
        "--chat-template",
        type=Path,
        metavar="FILE",
        help="a Jinja chat template replacing the base's own (or for a base without one); saved with the model",
    )
    data.add_argument(
        "--max-length", type=int, default=1024, help="tokens per example, image included (default 1024)"
    )
    data.add_argument("--num-workers", type=int, default=2, help="DataLoader workers per process (default 2)")

    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--epochs", type=float, default=2.0, help="epochs (default 2)")
    opt.add_argument("--max-steps", type=int, help="optimizer steps; overrides --epochs")
    opt.add_argument("--lr", type=float, help="peak learning rate (default 2e-5; 2e-4 with --lora)")
    opt.add_argument("--lr-scheduler", default="cosine", help="transformers scheduler name (default cosine)")
    opt.add_argument(
        "--warmup-ratio", type=float, default=0.03, help="warm-up share of the steps (default 0.03)"
    )
    opt.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    opt.add_argument(
        "--max-grad-norm", type=float, default=1.0, help="gradient clipping, 0 = off (default 1)"
    )
    opt.add_argument(
        "--global-batch-size", type=int, default=256, help="examples per optimizer step (default 256)"
    )
    opt.add_argument("--batch-size", type=int, default=16, help="per-device micro-batch (default 16)")
    opt.add_argument(
        "--grad-accum",
        type=int,
        help="gradient-accumulation steps (default: global batch / (batch size x processes), rounded up)",
    )
    opt.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "bf16", "fp16", "fp32"],
        help="auto = bf16 on GPU, fp32 on CPU",
    )
    ckpt = opt.add_mutually_exclusive_group()
    ckpt.add_argument(
        "--gradient-checkpointing",
        dest="gradient_checkpointing",
        action="store_true",
        default=None,
        help="(GPU default)",
    )
    ckpt.add_argument("--no-gradient-checkpointing", dest="gradient_checkpointing", action="store_false")
    opt.add_argument(
        "--seed", type=int, default=0, help="seed for initialisation, shuffling and dropout (default 0)"
    )
    opt.add_argument("--cpu", action="store_true", help="train on CPU even when a GPU is present")

    out = parser.add_argument_group("output")
    out.add_argument("--output", type=Path, required=True, help="folder for the trained model + processor")
    out.add_argument(
        "--save-dtype",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="dtype of the saved weights",
    )
    out.add_argument(
        "--save-steps", type=int, default=500, help="checkpoint every N optimizer steps (default 500)"
    )
    out.add_argument("--save-total-limit", type=int, default=2, help="checkpoints kept (default 2)")
    out.add_argument(
        "--keep-checkpoints", action="store_true", help="keep <output>/checkpoints after the run"
    )
    out.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --output")
    out.add_argument("--log-steps", type=int, default=10, help="log every N optimizer steps (default 10)")
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Map parsed arguments onto a :class:`~adapters.fakevlm.train_config.TrainConfig`."""
    from spotfake.adapters.fakevlm.train_config import TrainConfig
    from spotfake.harness.task import parse_task_args

    for name in ("batch_size", "global_batch_size", "max_length", "log_steps"):
        if getattr(args, name) < 1:
            raise SpotfakeError(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_steps is not None and args.max_steps < 1:
        raise SpotfakeError("--max-steps must be at least 1")
    if args.grad_accum is not None and args.grad_accum < 1:
        raise SpotfakeError("--grad-accum must be at least 1")
    if args.epochs <= 0:
        raise SpotfakeError("--epochs must be positive")
    task_args = parse_task_args(args.task_args)
    given = task_args.pop("split", None)
    if given is not None and args.split is not None and given != args.split:
        raise SpotfakeError(
            f"--split {args.split} and --task-args split={given} disagree; give the split once"
        )
    split = args.split or given or "train"
    return TrainConfig(
        output=args.output,
        data_root=args.data_root,
        base=args.base,
        from_scratch=args.from_scratch,
        processor=args.processor,
        task=args.task,
        task_args=task_args,
        split=split,
        prompt_format=args.prompt_format,
        chat_template=args.chat_template,
        annotations=args.annotations,
        image_root=args.image_root,
        epochs=args.epochs,
        max_steps=args.max_steps,
        lr=args.lr,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        lr_scheduler=args.lr_scheduler,
        global_batch_size=args.global_batch_size,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        max_length=args.max_length,
        max_grad_norm=args.max_grad_norm,
        precision=args.precision,
        gradient_checkpointing=args.gradient_checkpointing,
        freeze_vision_tower=args.freeze_vision_tower,
        lora=args.lora,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        lora_merge=not args.lora_adapter_only,
        save_dtype=args.save_dtype,
        num_workers=args.num_workers,
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        keep_checkpoints=args.keep_checkpoints,
        resume=args.resume,
        seed=args.seed,
        log_steps=args.log_steps,
        cpu=args.cpu,
    )


def run(args: argparse.Namespace) -> int:
    """Handler: train, then print where the model is and how to evaluate it."""
    require("accelerate", "train", "spotfake train fakevlm")
    if args.lora:
        require("peft", "train", "spotfake train fakevlm --lora")
    from spotfake.adapters.fakevlm.train import train

    result = train(config_from_args(args))
    if not result.main_process:
        return 0
    if result.resumed_from == result.steps:
        print(f"{result.output}: already at step {result.steps}; saved the model again", file=sys.stderr)
    loss = (
        f"loss {result.first_loss:.4f} -> {result.last_loss:.4f}, " if result.first_loss is not None else ""
    )
    print(
        f"trained {result.steps - result.resumed_from} steps ({loss}{result.wall_s:.1f} s); "
        f"evaluate with: spotfake run --model fakevlm --model-args path={result.output} --task TASK"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m spotfake.adapters.fakevlm.train_cli``: the same command for torchrun / accelerate launch."""
    parser = argparse.ArgumentParser(prog="spotfake train fakevlm")
    register(parser)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SpotfakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
