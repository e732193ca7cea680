"""Training images: decoding, CNNSpot's augmentations, seeded crops and flips, and the size check
for batching whole images."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import torch

from spotfake.harness.errors import SpotfakeError

from .preprocess import resize_shorter, resize_square
from .train_options import TrainOptions


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


class TrainImages(torch.utils.data.Dataset):
    """Decoded, augmented, normalised training images (seeded per epoch and index)."""

    def __init__(
        self,
        paths: list[Path],
        targets: list[int],
        opts: TrainOptions,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        fixed: int | None,
    ) -> None:
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


def check_sizes(dataset: TrainImages) -> None:
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
