"""Training the expert classifiers on labelled samples (an image-folder task or a FakeClue train split).

One plain loop for the networks (``cnnspot``, ``npr``, ``npr-demo``, and ``univfd``'s head on a frozen
CLIP): binary cross-entropy on one logit (fake = 1), AdamW, seeded shuffling and augmentation. The
augmentations are the originals' cheap ones: optional resize to ``load_size``, random crop, horizontal
flip, and CNNSpot's Gaussian blur (sigma U(0, 3)) and JPEG (quality U(30, 100)) with ``blur_prob`` and
``jpeg_prob``. ``linear-probe`` instead fits a logistic regression on cached frozen EfficientNet-Lite0
features.

Outputs: the weights as safetensors (with the architecture config in the file's metadata) and a small
JSON file next to them with that config and the training record (options, data, losses, time).
"""

from __future__ import annotations

import io
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from adapters.generation import choose_device
from harness.errors import SpotfakeError
from harness.types import Sample

from .base import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD
from .checkpoints import CONFIG_FILE, WEIGHTS_FILE, save_weights
from .preprocess import resize_shorter, resize_square
from .train_cli import ARCHS


@dataclass(frozen=True)
class Recipe:
    """Per-architecture training defaults (each can be overridden by :class:`TrainOptions`)."""

    epochs: int
    batch_size: int
    lr: float
    load_size: int | None
    crop_size: int | None
    blur_prob: float = 0.0
    jpeg_prob: float = 0.0


RECIPES: dict[str, Recipe] = {
    # Wang et al. 2020: 256 px ProGAN images, random crop 224, flip; blur+JPEG at p = 0.1 or 0.5.
    "cnnspot": Recipe(
        epochs=10, batch_size=64, lr=1e-4, load_size=256, crop_size=224, blur_prob=0.1, jpeg_prob=0.1
    ),
    # Ojha et al. 2023: only the linear head learns; crop to the CLIP input size.
    "univfd": Recipe(epochs=5, batch_size=64, lr=1e-4, load_size=None, crop_size=None),
    # Tan et al. 2024: resize 256, random crop 224, flip, Adam lr 2e-4, no blur/JPEG.
    "npr": Recipe(epochs=10, batch_size=32, lr=2e-4, load_size=256, crop_size=224),
    # The demo's small NPR: whole 64x64 images, flips.
    "npr-demo": Recipe(epochs=30, batch_size=32, lr=1e-3, load_size=None, crop_size=None),
    "linear-probe": Recipe(epochs=0, batch_size=32, lr=0.0, load_size=None, crop_size=None),
}


@dataclass
class TrainOptions:
    """What to train and how; ``None`` takes the architecture's :data:`RECIPES` default."""

    arch: str
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    load_size: int | None = None
    crop_size: int | None = None
    blur_prob: float | None = None
    jpeg_prob: float | None = None
    clip_path: str | None = None
    cache_dir: Path | None = None
    probe_c: tuple[float, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    """Overrides of the architecture config (e.g. ``{"layers": [1, 1, 1, 1]}`` for a tiny CNNSpot)."""

    def resolved(self) -> TrainOptions:
        """A copy with every ``None`` filled from the recipe."""
        if self.arch not in RECIPES:
            raise SpotfakeError(f"unknown --arch {self.arch!r} (known: {', '.join(ARCHS)})")
        recipe = RECIPES[self.arch]
        values = asdict(self)
        for key, default in asdict(recipe).items():
            if values.get(key) is None:
                values[key] = default
        values["cache_dir"] = self.cache_dir
        values["config"] = dict(self.config)
        return TrainOptions(**values)


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


def load_rgb(path: Path) -> Any:
    """An image file as RGB PIL, or a SpotfakeError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except FileNotFoundError:
        raise SpotfakeError(f"image not found: {path}; is --data-root right?") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise SpotfakeError(f"cannot read image {path}: {exc}") from None


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
    _seed_everything(opts.seed)
    began = time.perf_counter()
    if opts.arch == "linear-probe":
        dataset = str((provenance or {}).get("task", "samples"))
        state, config, extra, losses = _fit_probe(paths, targets, opts, dataset, log)
    else:
        state, config, extra, losses = _fit_network(paths, targets, opts, log)
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


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------------------------------
# Networks trained by gradient descent


def _with_overrides(defaults: dict[str, Any], opts: TrainOptions) -> dict[str, Any]:
    unknown = sorted(set(opts.config) - set(defaults) | ({"arch"} & set(opts.config)))
    if unknown:
        raise SpotfakeError(
            f"config overrides {unknown} are not settable for {opts.arch} (known: {sorted(defaults)})"
        )
    return {**defaults, **opts.config}


def _build(opts: TrainOptions) -> tuple[nn.Module, dict[str, Any], tuple, tuple, int | None]:
    """(network, config to save, mean, std, fixed input size or None) for the architecture."""
    if opts.arch == "cnnspot":
        from . import cnnspot

        config = _with_overrides(cnnspot.DEFAULT_CONFIG, opts)
        return cnnspot.build_network(config), config, IMAGENET_MEAN, IMAGENET_STD, None
    if opts.arch in {"npr", "npr-demo"}:
        from . import npr

        if opts.arch == "npr":
            config = _with_overrides(npr.DEFAULT_CONFIG, opts)
        else:
            from adapters.demo_models import NPR_DEMO_CONFIG

            config = _with_overrides(NPR_DEMO_CONFIG, opts)
        # Evaluate the way it was trained: the same square resize (the authors' test uses loadSize).
        config["resize"] = opts.load_size or None
        return npr.build_network(config), config, IMAGENET_MEAN, IMAGENET_STD, None
    from . import univfd

    clip_path = opts.clip_path or univfd.DEFAULT_BACKBONE
    backbone = univfd.load_backbone(clip_path)
    feature_dim = int(backbone.config.projection_dim)
    local = Path(clip_path).expanduser()
    config = {
        **_with_overrides(univfd.DEFAULT_CONFIG, opts),
        "backbone": local.name if local.is_dir() else clip_path,
        "feature_dim": feature_dim,
    }
    network = univfd.UnivFDNet(backbone, feature_dim)
    return network, config, CLIP_MEAN, CLIP_STD, int(backbone.config.image_size)


class _TrainImages(torch.utils.data.Dataset):
    """Decoded, augmented, normalised training images (seeded per epoch and index)."""

    def __init__(
        self, paths: list[Path], targets: list[int], opts: TrainOptions, mean, std, fixed: int | None
    ):
        self.paths, self.targets, self.opts = paths, targets, opts
        self.mean, self.std = list(mean), list(std)
        self.crop = fixed or opts.crop_size
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision.transforms import functional as TF

        rng = random.Random(f"{self.opts.seed}:{self.epoch}:{index}")
        image = load_rgb(self.paths[index])
        if self.opts.load_size:
            image = resize_square(image, self.opts.load_size)
        image = augment(image, rng, self.opts.blur_prob or 0.0, self.opts.jpeg_prob or 0.0)
        if self.crop:
            if min(image.size) < self.crop:
                image = resize_shorter(image, self.crop)
            left = rng.randint(0, image.size[0] - self.crop)
            top = rng.randint(0, image.size[1] - self.crop)
            image = image.crop((left, top, left + self.crop, top + self.crop))
        if rng.random() < 0.5:
            image = TF.hflip(image)
        tensor = TF.normalize(TF.to_tensor(image), self.mean, self.std)
        return tensor, torch.tensor(float(self.targets[index]))


def augment(image: Any, rng: random.Random, blur_prob: float, jpeg_prob: float) -> Any:
    """CNNSpot's augmentation: Gaussian blur with sigma U(0, 3) and JPEG with quality U(30, 100),
    each with its probability."""
    from PIL import Image, ImageFilter

    if blur_prob and rng.random() < blur_prob:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.0, 3.0)))
    if jpeg_prob and rng.random() < jpeg_prob:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(30, 100))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            image = decoded.convert("RGB")
    return image


def _fit_network(paths, targets, opts: TrainOptions, log) -> tuple[dict, dict, dict, list[float]]:
    device = choose_device(opts.device)
    network, config, mean, std, fixed = _build(opts)
    network.to(device)
    dataset = _TrainImages(paths, targets, opts, mean, std, fixed)
    _check_sizes(dataset)
    generator = torch.Generator().manual_seed(opts.seed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=opts.batch_size, shuffle=True, generator=generator
    )
    trainable = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=opts.lr, weight_decay=opts.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    head_only = opts.arch == "univfd"
    losses: list[float] = []
    for epoch in range(int(opts.epochs or 0)):
        dataset.epoch = epoch
        network.train()
        if head_only:
            network.backbone.eval()  # type: ignore[union-attr]
        total, count, correct = 0.0, 0, 0
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = network(images).reshape(-1)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(labels)
            count += len(labels)
            correct += int(((logits > 0).float() == labels).sum())
        losses.append(total / max(count, 1))
        log(
            f"epoch {epoch + 1}/{opts.epochs}: loss {losses[-1]:.4f}, train acc {correct / max(count, 1):.3f}"
        )
        if not math.isfinite(losses[-1]):
            raise SpotfakeError(
                f"training diverged at epoch {epoch + 1} (loss {losses[-1]}); try a lower --lr"
            )
    network.eval()
    state = network.state_dict()
    if head_only:
        state = {k: v for k, v in state.items() if k.startswith("fc.")}
    return state, config, {}, losses


def _check_sizes(dataset: _TrainImages) -> None:
    """Without a crop, every training image must have the same size to be batched."""
    if dataset.crop or dataset.opts.load_size:
        return
    from PIL import Image

    sizes = set()
    for path in dataset.paths:
        with Image.open(path) as img:
            sizes.add(img.size)
        if len(sizes) > 1:
            raise SpotfakeError(
                f"training images differ in size ({sorted(sizes)[:2]}, e.g. {path}); pass --crop-size N or --load-size N"
            )


# ----------------------------------------------------------------------------------------------------
# The linear probe


def _fit_probe(paths, targets, opts: TrainOptions, dataset: str, log) -> tuple[dict, dict, dict, list[float]]:
    from adapters.demo_models import LINEAR_PROBE_CONFIG

    from .probe import BACKBONE, FeatureCache, extract_features, fit_probe

    device = choose_device(opts.device)
    cache_file = None
    if opts.cache_dir is not None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset)
        cache_file = Path(opts.cache_dir) / f"{safe}-{BACKBONE}.npz"
    cache = FeatureCache(cache_file)
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % (opts.batch_size * 8) == 0:
            rate = done / max(time.perf_counter() - began, 1e-9)
            log(f"features: {done}/{total} images ({rate:.1f} images/s)")

    features, computed = extract_features(
        paths,
        lambda i: load_rgb(paths[i]),
        cache,
        device=device,
        batch_size=opts.batch_size or 32,
        progress=progress,
    )
    feature_seconds = time.perf_counter() - began
    head, summary = fit_probe(features, np.array(targets), seed=opts.seed, c_values=opts.probe_c or None)
    log(
        f"probe: C={summary['C']}, cv accuracy {summary['cv_accuracy']}, train accuracy {summary['train_accuracy']}"
    )
    config = {**LINEAR_PROBE_CONFIG, "C": summary["C"]}
    extra = {
        "probe": summary,
        "feature_seconds": round(feature_seconds, 2),
        "features_from_cache": len(paths) - computed,
    }
    return head, config, extra, []
