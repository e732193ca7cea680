"""What an image file says about itself without decoding its pixels: format, size, JPEG quality, bytes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from spotfake.harness.audit.jpeg_quality import estimate_quality

FORMATS = ("JPEG", "PNG", "WEBP", "other")
"""Format groups the audit counts and the baseline sees (anything else is "other")."""


@dataclass(frozen=True)
class ImageFacts:
    """One image's header facts; ``jpeg_quality`` is None for other formats."""

    format: str
    width: int
    height: int
    jpeg_quality: int | None
    bytes_per_pixel: float

    def features(self) -> list[float]:
        """The format-only baseline's inputs: one-hot format, JPEG quality (0 when not JPEG), log width,
        log height, log aspect ratio and bytes per pixel."""
        onehot = [float(self.format == f) for f in FORMATS]
        quality = float(self.jpeg_quality or 0) / 100.0
        return [
            *onehot,
            quality,
            math.log(self.width),
            math.log(self.height),
            math.log(self.width / self.height),
            self.bytes_per_pixel,
        ]


def read_facts(path: Path) -> ImageFacts | None:
    """The facts of the image at ``path`` from its header, or None when it is not a readable image file
    (the audit counts those apart). Only regular files are opened."""
    from PIL import Image, UnidentifiedImageError

    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
        with Image.open(path) as image:
            fmt = image.format if image.format in FORMATS else "other"
            width, height = image.size
            tables = getattr(image, "quantization", None) if fmt == "JPEG" else None
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if width <= 0 or height <= 0:
        return None
    quality = estimate_quality(tables) if tables else None
    return ImageFacts(str(fmt), width, height, quality, size / (width * height))
