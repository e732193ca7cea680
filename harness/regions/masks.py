"""Binary masks from mask images, boxes and polygons; resizing; boxes of regions; best-match box IoU.

Conventions, the same for truths and predictions:

- **Mask images** are read in their own mode (:func:`harness.images.load_image` with ``mode=None``): a
  pixel is foreground when its value as a fraction of the mode's full scale is **above** ``threshold``
  (0.5: 8-bit values 128..255, as SIDA's ``pred_masks > 0`` on logits is p > 0.5). 1-bit images are
  taken as they are; an 8- or 16-bit mask whose values are only 0 and 1 is a label map (1 = foreground);
  16-bit images scale by 65535, float images are probabilities; colour images are read as grey
  (ITU-R 601 luma, PIL's ``convert("L")``).
- **Boxes** are ``[x0, y0, x1, y1]`` in pixels with exclusive far edges (``[0, 0, 2, 2]`` covers 4 pixels);
  reversed corners are swapped; a box covers the pixels whose index lies in ``[round(x0), round(x1))``.
  Box IoU is area-based on the continuous boxes.
- **Polygons** are flat ``[x1, y1, x2, y2, ...]`` lists with the points truncated to integers and filled
  with their outline, as LEGION's ``eval/utils.py`` draws SynthScars truths (PIL's fill where LEGION uses
  OpenCV's: a border pixel may differ).
- A prediction at another resolution than the truth is resized to it by nearest neighbour; a different
  aspect ratio (more than 2 %) is refused, since it means the mask is of another image or transposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spotfake.harness.errors import SpotfakeError

BoolArray = np.ndarray
Box = tuple[float, float, float, float]

THRESHOLD = 0.5
"""The stated threshold on soft masks: foreground where the value is above it."""

ASPECT_TOLERANCE = 0.02


def mask_from_image(image: Any, threshold: float = THRESHOLD) -> BoolArray:
    """The (h, w) foreground of a PIL image under the conventions above."""
    mode = image.mode
    if mode == "1":
        return np.array(image, dtype=bool)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values, scale = np.array(image), 65535.0
    elif mode == "F":
        values, scale = np.array(image, dtype=np.float64), 1.0
    elif mode in ("L", "LA"):
        values, scale = np.array(image.getchannel(0)), 255.0
    else:
        values, scale = np.array(image.convert("L")), 255.0
    if values.dtype.kind in "iu" and values.size and int(values.max()) <= 1:
        return values == 1
    return np.asarray(values, dtype=np.float64) / scale > threshold


def read_mask(path: Path, *, sample_id: str, what: str, threshold: float = THRESHOLD) -> BoolArray:
    """The foreground of the mask image at ``path``; one :class:`SpotfakeError` starting with ``what``
    (the file and line, or the task) and naming the path on failure."""
    from spotfake.harness.errors import SampleError
    from spotfake.harness.images import load_image

    try:
        image = load_image(path, sample_id=sample_id, mode=None)
    except SampleError as exc:
        raise SpotfakeError(f"{what}: mask {exc}") from None
    return mask_from_image(image, threshold)


def fit_to(mask: BoolArray, height: int, width: int, *, what: str) -> BoolArray:
    """``mask`` at (height, width): as it is, or resized by nearest neighbour when only its scale differs."""
    h, w = mask.shape
    if (h, w) == (height, width):
        return mask
    if abs((h / w) / (height / width) - 1.0) > ASPECT_TOLERANCE:
        raise SpotfakeError(
            f"{what} is {w}x{h} (width x height) but the truth is {width}x{height}: another aspect ratio "
            "(another image, or a transposed mask); write the mask at the image's size"
        )
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.int64), w - 1)
    return mask[np.ix_(rows, cols)]


def _edge(value: float, limit: int) -> int:
    return int(min(max(np.floor(value + 0.5), 0), limit))


def ordered(box: Sequence[float]) -> Box:
    """``(x0, y0, x1, y1)`` with x0 <= x1 and y0 <= y1."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def boxes_mask(boxes: Sequence[Sequence[float]], height: int, width: int) -> BoolArray:
    """The union of ``boxes`` as a (height, width) mask (parts outside the image are cut off)."""
    mask = np.zeros((height, width), dtype=bool)
    for box in boxes:
        x0, y0, x1, y1 = ordered(box)
        mask[_edge(y0, height) : _edge(y1, height), _edge(x0, width) : _edge(x1, width)] = True
    return mask


def polygons_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> BoolArray:
    """The union of filled polygons (flat ``[x1, y1, x2, y2, ...]``, at least three points) as a mask."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        points = [(int(polygon[i]), int(polygon[i + 1])) for i in range(0, len(polygon) - 1, 2)]
        if len(points) >= 3:
            draw.polygon(points, fill=1, outline=1)
    return np.array(canvas, dtype=np.uint8) == 1


def mask_box(mask: BoolArray) -> Box | None:
    """The box around every foreground pixel of ``mask`` (exclusive far edges); None when it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def region_boxes(mask: BoolArray) -> list[Box]:
    """The box of each 8-connected foreground region of ``mask`` (exclusive far edges)."""
    from scipy import ndimage

    labels, _count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    return [
        (float(cols.start), float(rows.start), float(cols.stop), float(rows.stop))
        for rows, cols in ndimage.find_objects(labels)
    ]


def box_iou_matrix(first: Sequence[Box], second: Sequence[Box]) -> np.ndarray:
    """(len(first), len(second)) IoU of every pair of boxes (0 where both are empty)."""
    a = np.asarray(first, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(second, dtype=np.float64).reshape(-1, 4)
    width = np.clip(
        np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    height = np.clip(
        np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None
    )
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def best_match_iou(truth: Sequence[Box], predicted: Sequence[Box]) -> float:
    """Mean over the truth boxes of each one's best IoU with any predicted box; with no truth box, 1.0
    when nothing is predicted either and 0.0 otherwise (the no-object convention of gIoU)."""
    if not truth:
        return 0.0 if predicted else 1.0
    if not predicted:
        return 0.0
    return float(box_iou_matrix(truth, predicted).max(axis=1).mean())
