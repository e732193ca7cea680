"""Per-architecture training recipes and the options of one ``spotfake train classifier`` run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError


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
ARCHS: tuple[str, ...] = tuple(RECIPES)
"""The architectures ``spotfake train classifier --arch`` accepts: one per recipe."""


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
