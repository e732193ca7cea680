"""Image preprocessing steps shared by the classifiers (PIL in, float tensor out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

INTERPOLATIONS = {
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "nearest": InterpolationMode.NEAREST,
}


def resize_square(image: Any, size: int, interpolation: str = "bilinear") -> Any:
    """Resize to ``size`` x ``size`` (aspect ratio not kept), as ``transforms.Resize((s, s))``."""
    return TF.resize(image, [size, size], interpolation=INTERPOLATIONS[interpolation], antialias=True)


def resize_shorter(image: Any, size: int, interpolation: str = "bilinear") -> Any:
    """Resize so the shorter side is ``size``, as ``transforms.Resize(s)``."""
    return TF.resize(image, size, interpolation=INTERPOLATIONS[interpolation], antialias=True)


def center_crop(image: Any, size: int) -> Any:
    """Centre crop ``size`` x ``size``; a smaller image is zero-padded, as ``transforms.CenterCrop``."""
    return TF.center_crop(image, [size, size])


def to_normalized_tensor(image: Any, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """PIL RGB -> (3, H, W) float tensor in [0, 1], then ``(x - mean) / std`` per channel."""
    return TF.normalize(TF.to_tensor(image), list(mean), list(std))
