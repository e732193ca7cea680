"""Fitting: one gradient-descent loop for the networks (``cnnspot``, ``npr``, ``npr-demo``, ``univfd``'s
head on a frozen CLIP), and the logistic regression of ``linear-probe`` on cached frozen features.

Each returns ``(state dict, architecture config, extra training record, epoch losses)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spotfake.adapters.devices import choose_device
from spotfake.harness.errors import SpotfakeError

from .preprocess import NORMS
from .train_images import TrainImages, check_sizes, load_rgb
from .train_options import TrainOptions

Fitted = tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any], list[float]]
"""(state dict, architecture config, extra training record, per-epoch losses)."""
Log = Callable[[str], None]


def with_overrides(defaults: dict[str, Any], opts: TrainOptions) -> dict[str, Any]:
    """The architecture defaults with ``opts.config`` applied; an unknown or ``arch`` key is refused."""
    unknown = sorted(set(opts.config) - set(defaults) | ({"arch"} & set(opts.config)))
    if unknown:
        raise SpotfakeError(
            f"config overrides {unknown} are not settable for {opts.arch} (known: {sorted(defaults)})"
        )
    return {**defaults, **opts.config}


def norm_stats(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) of the named normalisation in :data:`~spotfake.adapters.experts.preprocess.NORMS`."""
    stats = NORMS[name]
    if stats is None:
        raise ValueError(f"normalisation {name!r} has no mean/std")
    return stats


def build_for_training(
    opts: TrainOptions,
) -> tuple[nn.Module, dict[str, Any], tuple[float, ...], tuple[float, ...], int | None]:
    """(network, config to save, mean, std, fixed input size or None) for the architecture."""
    if opts.arch == "cnnspot":
        from . import cnnspot

        config = with_overrides(cnnspot.DEFAULT_CONFIG, opts)
        return cnnspot.build_network(config), config, *norm_stats("imagenet"), None
    if opts.arch in {"npr", "npr-demo"}:
        from . import npr

        if opts.arch == "npr":
            config = with_overrides(npr.DEFAULT_CONFIG, opts)
        else:
            from spotfake.adapters.demo_models import NPR_DEMO_CONFIG

            config = with_overrides(NPR_DEMO_CONFIG, opts)
        # Evaluate the way it was trained: the same square resize (the authors' test uses loadSize).
        config["resize"] = opts.load_size or None
        return npr.build_network(config), config, *norm_stats("imagenet"), None
    from . import univfd

    clip_path = opts.clip_path or univfd.DEFAULT_BACKBONE
    backbone = univfd.load_backbone(clip_path)
    feature_dim = int(backbone.config.projection_dim)
    local = Path(clip_path).expanduser()
    config = {
        **with_overrides(univfd.DEFAULT_CONFIG, opts),
        "backbone": local.name if local.is_dir() else clip_path,
        "feature_dim": feature_dim,
    }
    network = univfd.UnivFDNet(backbone, feature_dim)
    return network, config, *norm_stats("clip"), int(backbone.config.image_size)


def fit_network(paths: list[Path], targets: list[int], opts: TrainOptions, log: Log) -> Fitted:
    """Train the network of ``opts.arch`` with BCE on one logit; univfd learns only its head."""
    if opts.lr is None or opts.batch_size is None:
        raise ValueError("fit_network needs resolved options (TrainOptions.resolved())")
    device = choose_device(opts.device)
    network, config, mean, std, fixed = build_for_training(opts)
    network.to(device)
    dataset = TrainImages(paths, targets, opts, mean, std, fixed)
    check_sizes(dataset)
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


def fit_probe_head(
    paths: list[Path], targets: list[int], opts: TrainOptions, dataset: str, log: Log
) -> Fitted:
    """Frozen EfficientNet-Lite0 features (cached per ``dataset``) and a cross-validated logistic regression."""
    from spotfake.adapters.demo_models import LINEAR_PROBE_CONFIG

    from .probe import BACKBONE, FeatureCache, extract_features, fit_probe

    device = choose_device(opts.device)
    cache_file = None
    if opts.cache_dir is not None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset)
        cache_file = Path(opts.cache_dir) / f"{safe}-{BACKBONE}.npz"
    cache = FeatureCache(cache_file)
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % ((opts.batch_size or 32) * 8) == 0:
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
