"""``spotfake train classifier``: train an expert classifier on a task's labelled samples.

Imports nothing heavy at module level (the CLI lists commands without loading torch).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .train_options import ARCHS


def default_cache_dir() -> Path:
    """Where the linear probe caches features: ``features/`` in spotfake's cache folder
    (:func:`harness.io.cache_root`: ``$SPOTFAKE_CACHE``, else ``$XDG_CACHE_HOME/spotfake``)."""
    from spotfake.harness.io import cache_root

    return cache_root() / "features"


def _float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def register(parser: argparse.ArgumentParser) -> None:
    """Train an expert classifier (cnnspot, univfd, npr, npr-demo, linear-probe) on a task's images.

    Entry point ``spotfake.commands: train.classifier``.
    """
    parser.description = (
        "Train cnnspot, univfd (head on frozen CLIP), npr, npr-demo or linear-probe on a task's labelled "
        "samples (e.g. --task imagefolder --data-root DIR, or a FakeClue train split via --task-args split=train)."
    )
    parser.add_argument("--arch", required=True, choices=ARCHS, help="architecture / recipe to train")
    parser.add_argument("--task", required=True, help="task whose samples are the training data")
    parser.add_argument("--data-root", default=None, help="the task's data folder")
    parser.add_argument("--task-args", default=None, help="reader arguments key=value,... (e.g. split=train)")
    parser.add_argument(
        "--output", required=True, help="folder (model.safetensors + config.json) or a .safetensors file path"
    )
    parser.add_argument("--epochs", type=int, default=None, help="passes over the data (recipe default)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per step (recipe default)")
    parser.add_argument("--lr", type=float, default=None, help="AdamW learning rate (recipe default)")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="seed for shuffling, augmentation and init")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    parser.add_argument("--load-size", type=int, default=None, help="square resize before cropping (0: none)")
    parser.add_argument("--crop-size", type=int, default=None, help="random crop size (0: whole image)")
    parser.add_argument(
        "--blur-prob", type=float, default=None, help="probability of Gaussian blur sigma U(0,3)"
    )
    parser.add_argument("--jpeg-prob", type=float, default=None, help="probability of JPEG quality U(30,100)")
    parser.add_argument(
        "--clip-path", default=None, help="univfd: local folder of openai/clip-vit-large-patch14"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="linear-probe: feature cache folder")
    parser.add_argument(
        "--probe-c",
        type=_float_list,
        default=(),
        help="linear-probe: C values to cross-validate (e.g. 0.01,0.1,1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the task, train, print a one-line summary as JSON on stdout."""
    from spotfake.harness.task import load_task, parse_task_args

    from .train import TrainOptions, train_classifier

    task = load_task(args.task, args.data_root, parse_task_args(args.task_args))
    options = TrainOptions(
        arch=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        device=args.device,
        load_size=args.load_size,
        crop_size=args.crop_size,
        blur_prob=args.blur_prob,
        jpeg_prob=args.jpeg_prob,
        clip_path=args.clip_path,
        cache_dir=args.cache_dir or default_cache_dir(),
        probe_c=tuple(args.probe_c),
    )
    provenance = {
        "task": task.name,
        "task_version": task.spec.version,
        "task_args": {k: str(v) for k, v in task.args.items() if k != "cache_dir"},
        "data_fingerprint": task.data_fingerprint,
    }
    report = train_classifier(task.samples, Path(args.output), options, provenance=provenance)
    summary = {
        "arch": report.arch,
        "weights": str(report.weights),
        "samples": report.n_samples,
        "real": report.n_real,
        "fake": report.n_fake,
        "final_loss": round(report.epoch_losses[-1], 5) if report.epoch_losses else None,
        "seconds": report.seconds,
        **({"probe": report.extra["probe"]} if "probe" in report.extra else {}),
    }
    print(json.dumps(summary), file=sys.stdout)
    return 0
