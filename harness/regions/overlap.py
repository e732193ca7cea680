"""One record's truth region against its predicted region: the numbers every localisation metric uses.

**The truth** comes from the task, in the record's metadata (readers in ``tasks/readers`` write it):

- ``mask``: where a mask image is (SID-Set, So-Fake-OOD), read under the conventions of
  :mod:`harness.regions.masks`; its truth boxes are the boxes of its 8-connected regions. Stored as
  :meth:`TruthRoots.reference` writes it, so that no path of the machine lands in ``samples.jsonl``: a
  path relative to the task's data root, ``cache:<path>`` relative to spotfake's cache for a mask the
  reader wrote there, an absolute path only where neither holds it (and in the records of older runs);
  :meth:`TruthRoots.resolve` reads it back at scoring time;
- ``regions``: JSON ``{"size": [h, w], "refs": [[polygon, ...], ...]}`` (SynthScars): the union of every
  referred region's polygons, drawn on an h x w canvas; one truth box per referred region, around the
  pixels its polygons fill;
- ``image_size`` (optional): JSON ``[h, w]`` of the image when it differs from the truth mask's size, so
  that pixel boxes (given in the image's pixels) are scaled to the mask.

A record without ``mask`` or ``regions`` has no truth region and gets no value.

**The prediction**, in this order: the record's ``mask`` (COCO RLE, resized to the truth if only its
scale differs); else its ``boxes``; else the boxes written in the model's answer
(:mod:`harness.regions.text_boxes`, read from the model's own text); else nothing, an empty region (a
failed or missing answer predicts nothing). Predicted boxes, for box IoU, are the given or written boxes,
else the boxes of the predicted mask's regions.

:func:`region_overlap` returns ``[intersection, union, predicted, truth, box_iou]``: pixel counts of the
binary masks at the truth's resolution, and the best-match box IoU (:func:`harness.regions.masks.best_match_iou`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.regions import masks as m
from spotfake.harness.regions.rle import RleError, decode
from spotfake.harness.regions.text_boxes import text_boxes
from spotfake.harness.types import Record

TRUTH_MASK = "mask"
TRUTH_REGIONS = "regions"
IMAGE_SIZE = "image_size"
TRUTH_KEYS = (TRUTH_MASK, TRUTH_REGIONS)
CACHE_PREFIX = "cache:"


@dataclass(frozen=True)
class TruthRoots:
    """The folders a stored truth-mask reference is relative to: the task's data root and spotfake's cache
    (:func:`harness.io.cache_root` of the task's ``cache_dir``)."""

    data_root: Path | None = None
    cache: Path | None = None

    @classmethod
    def of(cls, data_root: Path | None, cache_dir: object = None) -> TruthRoots:
        """The roots of a task read from ``data_root`` with the task argument ``cache_dir``."""
        from spotfake.harness.io import cache_root

        return cls(data_root, cache_root(cache_dir))

    def reference(self, path: Path) -> str:
        """``path`` as metadata stores it: relative to the data root (POSIX), else ``cache:`` and relative
        to the cache, else absolute (no root holds it)."""
        full = path.absolute()
        for root, prefix in ((self.data_root, ""), (self.cache, CACHE_PREFIX)):
            if root is not None and full.is_relative_to(root.absolute()):
                return prefix + full.relative_to(root.absolute()).as_posix()
        return str(full)

    def resolve(self, value: str) -> Path:
        """The file a stored reference names (an absolute one, as older runs stored, as it is)."""
        if value.startswith(CACHE_PREFIX):
            return (self.cache or Path()) / value[len(CACHE_PREFIX) :]
        path = Path(value)
        return path if path.is_absolute() or self.data_root is None else self.data_root / path


@dataclass(frozen=True)
class Truth:
    """A record's truth region: its mask, its boxes, and the image's size (height, width)."""

    mask: np.ndarray
    boxes: tuple[m.Box, ...]
    image_size: tuple[int, int]


def _size(value: object, what: str) -> tuple[int, int]:
    ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value)
    if not ok:
        raise SpotfakeError(
            f"{what}: a size must be [height, width] of positive integers, got {value!r}"[:300]
        )
    assert isinstance(value, list)
    return int(value[0]), int(value[1])


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SpotfakeError(f"{what}: not JSON ({exc})") from None


def _regions(text: str, what: str) -> tuple[np.ndarray, tuple[m.Box, ...]]:
    data = _json(text, what)
    if not isinstance(data, dict) or not isinstance(data.get("refs"), list):
        raise SpotfakeError(f'{what}: expected {{"size": [h, w], "refs": [[polygon, ...], ...]}}')
    height, width = _size(data.get("size"), what)
    refs = data["refs"]
    for ref in refs:
        valid = isinstance(ref, list) and all(
            isinstance(p, list) and all(isinstance(v, (int, float)) for v in p) for p in ref
        )
        if not valid:
            raise SpotfakeError(f"{what}: each referred region must be a list of flat [x1, y1, ...] polygons")
    masks = [m.polygons_mask(ref, height, width) for ref in refs]
    mask = np.logical_or.reduce(masks) if masks else np.zeros((height, width), dtype=bool)
    boxes = tuple(box for ref_mask in masks if (box := m.mask_box(ref_mask)) is not None)
    return mask, boxes


def truth_of(record: Record, roots: TruthRoots = TruthRoots()) -> Truth | None:
    """The truth region of ``record`` from its metadata (None when its task gives it none); a mask's
    stored reference is resolved against ``roots``."""
    meta = record.metadata or {}
    what = f"truth region of sample {record.id!r}"
    if TRUTH_MASK in meta:
        mask = m.read_mask(roots.resolve(meta[TRUTH_MASK]), sample_id=record.id, what=what)
        boxes = tuple(m.region_boxes(mask))
    elif TRUTH_REGIONS in meta:
        mask, boxes = _regions(meta[TRUTH_REGIONS], what)
    else:
        return None
    image = _size(_json(meta[IMAGE_SIZE], what), what) if IMAGE_SIZE in meta else mask.shape
    return Truth(mask, boxes, (int(image[0]), int(image[1])))


def _to_truth_frame(boxes: list[m.Box], truth: Truth) -> list[m.Box]:
    """Boxes in the image's pixels -> boxes in the truth mask's pixels."""
    (ih, iw), (th, tw) = truth.image_size, truth.mask.shape
    if (ih, iw) == (th, tw):
        return boxes
    sx, sy = tw / iw, th / ih
    return [(x0 * sx, y0 * sy, x1 * sx, y1 * sy) for x0, y0, x1, y1 in boxes]


def predicted_region(record: Record, truth: Truth, text: str | None) -> tuple[np.ndarray, list[m.Box]]:
    """The predicted mask at the truth's resolution and the predicted boxes in its frame (module docstring);
    ``text`` is the model's own answer."""
    height, width = truth.mask.shape
    if record.mask is not None:
        try:
            mask = decode(record.mask)
        except RleError as exc:
            raise SpotfakeError(f"sample {record.id!r}: predicted 'mask': {exc}") from None
        mask = m.fit_to(mask, height, width, what=f"the predicted mask of sample {record.id!r}")
        return mask, m.region_boxes(mask)
    if record.boxes is not None:
        boxes = [m.ordered(b) for b in record.boxes]
    elif record.error is None and text:
        ih, iw = truth.image_size
        boxes = [b.in_pixels(ih, iw) for b in text_boxes(text)]
    else:
        boxes = []
    boxes = _to_truth_frame(boxes, truth)
    return m.boxes_mask(boxes, height, width), boxes


def region_overlap(record: Record, text: str | None, roots: TruthRoots = TruthRoots()) -> list[float] | None:
    """``[intersection, union, predicted, truth, box_iou]`` of ``record`` (None without a truth region);
    ``text`` is the model's own answer (boxes written in it are read); ``roots`` resolve its truth mask."""
    truth = truth_of(record, roots)
    if truth is None:
        return None
    predicted, boxes = predicted_region(record, truth, text)
    inter = float(np.count_nonzero(predicted & truth.mask))
    union = float(np.count_nonzero(predicted | truth.mask))
    box_iou = m.best_match_iou(list(truth.boxes), boxes)
    return [inter, union, float(np.count_nonzero(predicted)), float(np.count_nonzero(truth.mask)), box_iou]
