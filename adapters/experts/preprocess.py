"""Image preprocessing steps shared by the classifiers (PIL in, float tensor out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def resize_crop_normalize(
    config: dict[str, Any], mean: Sequence[float], std: Sequence[float]
) -> Callable[[Any], torch.Tensor]:
    """Evaluation preprocessing: optional square resize (``config["resize"]``), optional centre crop
    (``config["crop"]``), then normalisation with ``mean``/``std``."""
    resize, crop = config.get("resize"), config.get("crop")

    def transform(image: Any) -> torch.Tensor:
        if resize:
            image = resize_square(image, resize)
        if crop:
            image = center_crop(image, crop)
        return to_normalized_tensor(image, mean, std)

    return transform
