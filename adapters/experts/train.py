"""Training the expert classifiers on labelled samples (an image-folder task or a FakeClue train split).

One plain loop for the networks (``cnnspot``, ``npr``, ``npr-demo``, and ``univfd``'s head on a frozen
CLIP): binary cross-entropy on one logit (fake = 1), AdamW, seeded shuffling and augmentation. The
augmentations are the originals' cheap ones: optional resize to ``load_size``, random crop, horizontal
flip, and CNNSpot's Gaussian blur (sigma U(0, 3)) and JPEG (quality U(30, 100)) with ``blur_prob`` and
``jpeg_prob``. ``linear-probe`` instead fits a logistic regression on cached frozen EfficientNet-Lite0
features.

Outputs: the weights as safetensors (with the architecture config in the file's metadata) and a small
JSON file next to them with that config and the training record (options, data, losses, time).

The recipes and options are in ``train_options.py``, the images and augmentations in
``train_images.py``, the two fitting procedures in ``train_fit.py``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.seeding import seed_everything
from spotfake.harness.types import Sample

from .checkpoints import CONFIG_FILE, WEIGHTS_FILE, save_weights
from .train_fit import fit_network, fit_probe_head
from .train_options import RECIPES, Recipe, TrainOptions

__all__ = ["RECIPES", "Recipe", "TrainOptions", "TrainReport", "labelled", "output_paths", "train_classifier"]


@dataclass
class TrainReport:
    """What a training run did: where the weights went, the data, the per-epoch losses, the time."""

    arch: str
    weights: Path
    n_samples: int
    n_real: int
    n_fake: int
    epoch_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def labelled(samples: Sequence[Sample]) -> tuple[list[Path], list[int]]:
    """Image paths and targets (fake = 1, real = 0) of the single-image labelled samples; both classes needed."""
    paths: list[Path] = []
    targets: list[int] = []
    for sample in samples:
        if sample.label is None or len(sample.images) != 1:
            continue
        paths.append(sample.images[0])
        targets.append(1 if sample.label == "fake" else 0)
    if not paths:
        raise SpotfakeError("no labelled single-image samples to train on; is the task a real/fake split?")
    if len(set(targets)) < 2:
        only = "fake" if targets[0] else "real"
        raise SpotfakeError(
            f"the training samples are all {only}; a classifier needs both real and fake images"
        )
    return paths, targets


def output_paths(output: Path) -> tuple[Path, Path]:
    """(weights, JSON) for ``--output``: a folder gets model.safetensors + config.json; a ``.safetensors``
    file gets its JSON beside it with the same stem."""
    if output.suffix == ".safetensors":
        return output, output.with_suffix(".json")
    return output / WEIGHTS_FILE, output / CONFIG_FILE


def train_classifier(
    samples: Sequence[Sample],
    output: Path,
    options: TrainOptions,
    *,
    provenance: dict[str, Any] | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> TrainReport:
    """Train ``options.arch`` on ``samples``, save weights + JSON under ``output``, return a report."""
    opts = options.resolved()
    paths, targets = labelled(samples)
    seed_everything(opts.seed)
    began = time.perf_counter()
    if opts.arch == "linear-probe":
        dataset = str((provenance or {}).get("task", "samples"))
        state, config, extra, losses = fit_probe_head(paths, targets, opts, dataset, log)
    else:
        state, config, extra, losses = fit_network(paths, targets, opts, log)
    seconds = time.perf_counter() - began
    weights, json_path = output_paths(output)
    save_weights(weights, state, config)
    report = TrainReport(
        arch=opts.arch,
        weights=weights,
        n_samples=len(paths),
        n_real=targets.count(0),
        n_fake=targets.count(1),
        epoch_losses=losses,
        seconds=round(seconds, 2),
        extra=extra,
    )
    record = {
        "model": config,
        "training": {
            "recipe": opts.arch,
            "options": {
                k: v for k, v in asdict(opts).items() if k not in {"cache_dir", "clip_path", "config"}
            },
            "data": {
                **(provenance or {}),
                "n_samples": report.n_samples,
                "n_real": report.n_real,
                "n_fake": report.n_fake,
            },
            "epoch_losses": [round(x, 5) for x in losses],
            "seconds": report.seconds,
            "torch": torch.__version__,
            **extra,
        },
    }
    json_path.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    log(f"saved {weights} and {json_path} ({report.seconds:.1f} s)")
    return report
