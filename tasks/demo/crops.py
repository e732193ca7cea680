"""Real 64x64 crops, with a split made by region so no pixel of a test crop was seen in training.

Each photo is cut into horizontal bands about ``BAND_HEIGHT`` pixels high; a seeded draw sends roughly
``TEST_FRACTION`` of the bands (at least one) to the test split and the rest to training. A crop is a
random square of side 64 to ``MAX_CROP`` pixels inside one band, resized to 64x64 with Lanczos filtering
(random rescaling). The stereo pair shares its bands (the views differ by a horizontal shift only), and
LFW faces are split face by face and upscaled whole. The generators see only training-band crops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from spotfake.tasks.demo.sources import SOURCES, PhotoSource, load_source

SIZE = 64
BAND_HEIGHT = 128
MAX_CROP = 160
TEST_FRACTION = 0.3
MIN_STD = 4.0
"""Crops whose grey-level standard deviation (0-255) is below this are flat (e.g. the retina's black
border) and are drawn again."""


@dataclass(frozen=True)
class Region:
    """Where crops of one split may come from: a band of rows of every photo of a source, or whole faces."""

    split: str
    rows: tuple[int, int] | None = None
    faces: tuple[int, ...] = ()


@dataclass
class SourcePlan:
    """A loaded source with its regions assigned to splits."""

    source: PhotoSource
    photos: list[np.ndarray]
    regions: list[Region]

    def regions_of(self, split: str) -> list[Region]:
        return [region for region in self.regions if region.split == split]


def plan_source(source: PhotoSource, photos: list[np.ndarray], rng: np.random.Generator) -> SourcePlan:
    """Assign a source's bands (or faces) to the train and test splits."""
    if source.faces:
        order = rng.permutation(len(photos))
        n_test = max(1, round(len(photos) * TEST_FRACTION))
        test = tuple(sorted(int(i) for i in order[:n_test]))
        train = tuple(sorted(int(i) for i in order[n_test:]))
        return SourcePlan(source, photos, [Region("train", faces=train), Region("test", faces=test)])
    height = min(photo.shape[0] for photo in photos)
    n_bands = max(2, height // BAND_HEIGHT)
    edges = np.linspace(0, height, n_bands + 1).round().astype(int)
    n_test = max(1, round(n_bands * TEST_FRACTION))
    test_bands = set(rng.choice(n_bands, size=n_test, replace=False).tolist())
    regions = [
        Region("test" if i in test_bands else "train", rows=(int(edges[i]), int(edges[i + 1])))
        for i in range(n_bands)
    ]
    return SourcePlan(source, photos, regions)


def plan_sources(rng: np.random.Generator) -> list[SourcePlan]:
    """Load every source photo and split its regions."""
    return [plan_source(source, load_source(source), rng) for source in SOURCES]


def _resize(pixels: np.ndarray) -> np.ndarray:
    if pixels.shape[0] == SIZE and pixels.shape[1] == SIZE:
        return np.ascontiguousarray(pixels)
    image = Image.fromarray(pixels).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def _grey_std(pixels: np.ndarray) -> float:
    return float((pixels.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).std())


def draw_crop(plan: SourcePlan, split: str, rng: np.random.Generator, *, flip: bool = False) -> np.ndarray:
    """One random 64x64 crop of ``plan``'s ``split`` regions (drawn again while flat)."""
    regions = plan.regions_of(split)
    for _ in range(1000):
        region = regions[int(rng.integers(len(regions)))]
        if region.rows is None:
            pixels = _resize(plan.photos[region.faces[int(rng.integers(len(region.faces)))]])
        else:
            photo = plan.photos[int(rng.integers(len(plan.photos)))]
            top, bottom = region.rows
            side = int(rng.integers(SIZE, min(MAX_CROP, bottom - top, photo.shape[1]) + 1))
            y = top + int(rng.integers(bottom - top - side + 1))
            x = int(rng.integers(photo.shape[1] - side + 1))
            pixels = _resize(photo[y : y + side, x : x + side])
        if flip and rng.random() < 0.5:
            pixels = np.ascontiguousarray(pixels[:, ::-1])
        if _grey_std(pixels) >= MIN_STD:
            return pixels
    raise RuntimeError(f"no textured crop found in source {plan.source.name} ({split})")


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integer shares proportional to ``weights`` (largest remainder, ties by order)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(int)
    remainder = total - int(counts.sum())
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:remainder]:
        counts[i] += 1
    return [int(c) for c in counts]


def real_crops(plan: SourcePlan, split: str, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` crops of ``split`` for the committed set; faces are used at most once each."""
    regions = plan.regions_of(split)
    if plan.source.faces:
        faces = [face for region in regions for face in region.faces]
        chosen = rng.permutation(len(faces))[:n]
        return [_resize(plan.photos[faces[int(i)]]) for i in sorted(chosen.tolist())]
    return [draw_crop(plan, split, rng) for _ in range(n)]
