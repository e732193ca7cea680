"""JPEG quality estimated from a file's quantisation tables (the IJG scaling libjpeg and Pillow use)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

LUMINANCE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
).ravel()
"""The JPEG standard's luminance table (ITU T.81 Annex K), in natural (row-major) order."""


def scaled_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes for ``quality`` (1-100), entries clamped to 1..255."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((LUMINANCE * scale + 50) // 100, 1, 255)


_TABLES = np.stack([scaled_table(q) for q in range(1, 101)])


def estimate_quality(tables: Mapping[int, Sequence[int]]) -> int | None:
    """The IJG quality (1-100) whose luminance table is closest to table 0 of ``tables`` (as Pillow's
    ``Image.quantization`` gives them, natural order); None when there is no 64-entry table 0. Files from
    encoders with their own tables get the nearest IJG quality."""
    luminance = tables.get(0)
    if luminance is None or len(luminance) != 64:
        return None
    error = np.abs(_TABLES - np.asarray(luminance, dtype=np.int64)).sum(axis=1)
    return int(np.argmin(error)) + 1
