"""Image preprocessing shared by the classifiers (PIL in, float tensor out): the steps, and
:class:`Preprocess`, the one declarative spec per expert that builds its transform and is recorded in
its results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch.nn import functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

INTERPOLATIONS = {
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "nearest": InterpolationMode.NEAREST,
    "lanczos": InterpolationMode.LANCZOS,
}


def resize_square(image: Any, size: int, interpolation: str = "bilinear") -> Any:
    """Resize to ``size`` x ``size`` (aspect ratio not kept), as ``transforms.Resize((s, s))``."""
    return TF.resize(image, [size, size], interpolation=INTERPOLATIONS[interpolation], antialias=True)


def resize_shorter(image: Any, size: int, interpolation: str = "bilinear") -> Any:
    """Resize so the shorter side is ``size``, as ``transforms.Resize(s)``."""
    return TF.resize(image, size, interpolation=INTERPOLATIONS[interpolation], antialias=True)


def to_normalized_tensor(image: Any, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """PIL RGB -> (3, H, W) float tensor in [0, 1], then ``(x - mean) / std`` per channel."""
    return TF.normalize(TF.to_tensor(image), list(mean), list(std))


NORMS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]] | None] = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "half": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "none": None,
}
"""Named normalisations: ImageNet and OpenAI CLIP statistics, ``(x - 0.5) / 0.5`` (SigLIP, Xception),
and none (the [0, 1] tensor as it is)."""
RESIZE_KINDS = ("square", "shorter")
CROP_KINDS = ("center", "five")
PAD_MODES = {"zero": "constant", "reflect": "reflect", "symmetric": "symmetric", "edge": "edge"}
"""How a centre crop larger than the image pads it: zeros (``transforms.CenterCrop``), reflection
without the edge pixel (``reflect``, cv2's BORDER_REFLECT_101) or with it (``symmetric``)."""
OFFSETS = ("round", "floor")
"""Where a centre crop starts on a side longer than the crop: ``round((n - size) / 2)`` as
``transforms.CenterCrop`` (``round``), or ``(n - size) // 2`` as albumentations' ``PadIfNeeded`` then
``CenterCrop`` (``floor``); the two differ by one pixel when ``n - size`` is odd."""
PIXELS = ("unit", "byte")
"""The scale the normalisation sees: ``unit`` (pixels / 255 in [0, 1], as ``ToTensor``) or ``byte`` (0..255,
mean/std in pixel units: EfficientNet-Lite's ``(x - 127) / 128``)."""
BACKENDS = ("pil", "tensor")
"""Resize with PIL (``transforms.Resize`` on a PIL image: antialiased) or on the 0..255 tensor without
antialiasing, rounded back to 0..255 (``cv2.resize``'s INTER_LINEAR/INTER_CUBIC up to that rounding)."""


@dataclass(frozen=True)
class Preprocess:
    """One detector's test-time preprocessing, declared once: it builds the transform and is recorded in
    ``results.json`` (through the adapter's settings, so the run key follows it).

    - ``resize``: None (keep the size), ``("square", N)`` (N x N, aspect not kept: ``Resize((N, N))``) or
      ``("shorter", N)`` (shorter side N: ``Resize(N)``);
    - ``crop``: None (the whole image), ``("center", N)`` (``CenterCrop(N)``; a smaller image is padded by
      ``pad``, then cropped from ``crop_offset``) or ``("five", N)`` (the model itself takes five N x N crops, as B-Free does in embedding
      space: the transform leaves the image whole);
    - ``norm``: a name in :data:`NORMS` or ``(mean, std)``;
    - ``interpolation``: bilinear, bicubic, nearest or lanczos; ``backend``: see :data:`BACKENDS`.
    - ``even``: drop a last odd row/column (models whose 2x2 blocks must tile the image);
    - ``crop_offset``: see :data:`OFFSETS` (``floor`` with ``pad="zero"`` is albumentations' pad-then-crop);
    - ``pixels``: see :data:`PIXELS`.
    """

    resize: tuple[str, int] | None = None
    crop: tuple[str, int] | None = None
    norm: str | tuple[tuple[float, ...], tuple[float, ...]] = "imagenet"
    interpolation: str = "bilinear"
    pad: str = "zero"
    backend: str = "pil"
    even: bool = False
    crop_offset: str = "round"
    pixels: str = "unit"

    def __post_init__(self) -> None:
        for value, kinds, what in ((self.resize, RESIZE_KINDS, "resize"), (self.crop, CROP_KINDS, "crop")):
            if value is not None and (len(value) != 2 or value[0] not in kinds or int(value[1]) < 1):
                raise ValueError(f"Preprocess {what}={value!r}: expected None or (one of {kinds}, size >= 1)")
        if isinstance(self.norm, str) and self.norm not in NORMS:
            raise ValueError(f"Preprocess norm={self.norm!r}: expected one of {sorted(NORMS)} or (mean, std)")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Preprocess interpolation={self.interpolation!r}: one of {sorted(INTERPOLATIONS)}"
            )
        if self.pad not in PAD_MODES or self.backend not in BACKENDS:
            raise ValueError(f"Preprocess pad={self.pad!r}/backend={self.backend!r}: see PAD_MODES, BACKENDS")
        if self.crop_offset not in OFFSETS or self.pixels not in PIXELS:
            raise ValueError(
                f"Preprocess crop_offset={self.crop_offset!r}/pixels={self.pixels!r}: see OFFSETS, PIXELS"
            )

    @property
    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """The normalisation's (mean, std), or None for no normalisation."""
        return NORMS[self.norm] if isinstance(self.norm, str) else self.norm

    @property
    def input_size(self) -> int | None:
        """The side of the square the model sees, or None when it sees the image at its own size."""
        if self.crop is not None and self.crop[0] == "center":
            return int(self.crop[1])
        if self.resize is not None and self.resize[0] == "square":
            return int(self.resize[1])
        return None

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON values (what results record)."""
        norm = (
            self.norm
            if isinstance(self.norm, str)
            else {"mean": list(self.norm[0]), "std": list(self.norm[1])}
        )
        out: dict[str, Any] = {
            "resize": list(self.resize) if self.resize else None,
            "crop": list(self.crop) if self.crop else None,
            "norm": norm,
            "interpolation": self.interpolation,
        }
        if self.crop is not None and self.crop[0] == "center":
            out["pad"] = self.pad
            if self.crop_offset != "round":  # recorded only when set: the default keeps earlier records
                out["crop_offset"] = self.crop_offset
        if self.resize is not None:
            out["backend"] = self.backend
        if self.even:
            out["even"] = True
        if self.pixels != "unit":
            out["pixels"] = self.pixels
        return out

    def describe(self) -> str:
        """One line: what the model sees (e.g. ``shorter 440 bicubic, centre 384, imagenet``)."""
        parts = []
        if self.resize:
            parts.append(f"resize {self.resize[0]} {self.resize[1]} {self.interpolation}")
        if self.crop:
            parts.append(f"{'centre' if self.crop[0] == 'center' else 'five'} crop {self.crop[1]}")
            if self.crop[0] == "center" and self.crop_offset != "round":
                parts[-1] += f" ({self.pad} pad, {self.crop_offset} offset)"
        if not parts:
            parts.append("full image")
        norm = self.norm if isinstance(self.norm, str) else "custom mean/std"
        return ", ".join([*parts, f"{norm} norm"])

    def build(self) -> Callable[[Any], torch.Tensor]:
        """The transform: PIL RGB image -> (3, H, W) float tensor."""
        return partial(apply_preprocess, self)


def square_crop_spec(resize: int | None, crop: int | None, norm: str) -> Preprocess:
    """An optional square resize (bilinear) then an optional centre crop (the ``resize=``/``crop=`` model
    args of CNNSpot and NPR; None or 0 skips the step), normalised with ``norm``."""
    return Preprocess(
        resize=("square", int(resize)) if resize else None,
        crop=("center", int(crop)) if crop else None,
        norm=norm,
    )


def apply_preprocess(spec: Preprocess, image: Any) -> torch.Tensor:
    """Resize, centre crop, to a [0, 1] tensor and normalise, as ``spec`` says."""
    if spec.resize is not None and spec.backend == "pil":
        kind, size = spec.resize
        target = [size, size] if kind == "square" else size
        image = TF.resize(image, target, interpolation=INTERPOLATIONS[spec.interpolation], antialias=True)
    tensor = TF.pil_to_tensor(image) if not isinstance(image, torch.Tensor) else image
    if spec.resize is not None and spec.backend == "tensor":
        tensor = _resize_tensor(tensor, spec.resize, spec.interpolation)
    if spec.crop is not None and spec.crop[0] == "center":
        tensor = _center_crop(tensor, int(spec.crop[1]), spec.pad, spec.crop_offset)
    if spec.even:
        tensor = tensor[..., : tensor.shape[-2] // 2 * 2, : tensor.shape[-1] // 2 * 2]
    x = tensor.float() / 255.0 if tensor.dtype == torch.uint8 and spec.pixels == "unit" else tensor.float()
    stats = spec.mean_std
    return TF.normalize(x, list(stats[0]), list(stats[1])) if stats is not None else x


def _resize_tensor(tensor: torch.Tensor, resize: tuple[str, int], interpolation: str) -> torch.Tensor:
    """Resize a uint8 (3, H, W) tensor without antialiasing, rounded back to uint8 (as cv2.resize)."""
    kind, size = resize
    height, width = tensor.shape[-2:]
    if kind == "square":
        out = (size, size)
    else:
        scale = size / min(height, width)
        out = (size, int(width * scale)) if height <= width else (int(height * scale), size)
    mode = interpolation if interpolation in ("bilinear", "bicubic", "nearest") else "bicubic"
    resized = F.interpolate(
        tensor[None].float(), size=out, mode=mode, align_corners=None if mode == "nearest" else False
    )
    return resized[0].round().clamp(0, 255).to(torch.uint8)


def _center_crop(tensor: torch.Tensor, size: int, pad: str, offset: str = "round") -> torch.Tensor:
    """``CenterCrop(size)`` on a (3, H, W) tensor; a smaller side is padded first with ``pad`` (the
    smaller half before), then the crop starts at ``offset`` (see :data:`OFFSETS`)."""
    height, width = tensor.shape[-2:]
    if height < size or width < size:
        pad_h, pad_w = max(size - height, 0), max(size - width, 0)
        padding = [pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2]
        tensor = TF.pad(tensor, padding, padding_mode=PAD_MODES[pad])
    if offset == "floor":
        top, left = (tensor.shape[-2] - size) // 2, (tensor.shape[-1] - size) // 2
        return tensor[..., top : top + size, left : left + size]
    return TF.center_crop(tensor, [size, size])
