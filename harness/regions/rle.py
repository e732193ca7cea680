"""COCO run-length encoding (RLE) of binary masks, checked before anything is decoded.

A mask travels as ``{"size": [h, w], "counts": ...}``: its pixels in column-major order (down the first
column, then the next), ``counts`` the lengths of the alternating runs, background (0) first. ``counts`` is
a list of integers (COCO's uncompressed RLE) or COCO's compressed string (the format of pycocotools'
``maskApi.c``: each count, from the fourth on, written as its difference to the count two before, in
little-endian 5-bit groups with a continuation bit, 48 added to each character).

The counts must add up to h * w exactly and every count must be >= 0: anything else is refused with one
line before a mask is built (a C decoder given such counts writes past its buffer), so a submitted file
cannot do more than fail. Masks are numpy bool arrays of shape (h, w).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from spotfake.harness.images import DEFAULT_MAX_PIXELS

BoolArray = np.ndarray

MAX_GROUPS = 7
"""5-bit groups one count may take in a compressed string (35 bits: far above any image's pixel count)."""


class RleError(ValueError):
    """A malformed RLE object; the message says what is wrong (the caller adds the file and sample)."""


def _dimension(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RleError(f"'size' must be [height, width] of positive integers, got {value!r}"[:200])
    return value


def string_counts(text: str) -> list[int]:
    """The run lengths of a compressed COCO counts string (signs and sizes checked, not yet the total)."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, group, more = 0, 0, True
        while more:
            if position >= len(text) or group >= MAX_GROUPS:
                raise RleError("the 'counts' string ends inside a count or holds a count too long")
            code = ord(text[position]) - 48
            if not 0 <= code < 64:
                raise RleError(f"the 'counts' string holds {text[position]!r}, not a COCO RLE character")
            value |= (code & 0x1F) << (5 * group)
            more = bool(code & 0x20)
            position += 1
            group += 1
            if not more and code & 0x10:
                value |= -1 << (5 * group)
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise RleError(f"the 'counts' string decodes to a negative run ({value}) at run {len(counts)}")
        counts.append(value)
    return counts


def counts_string(counts: Sequence[int]) -> str:
    """The compressed COCO string of run lengths ``counts`` (the inverse of :func:`string_counts`)."""
    chars: list[str] = []
    for index, count in enumerate(counts):
        value = int(count) - (int(counts[index - 2]) if index > 2 else 0)
        more = True
        while more:
            code = value & 0x1F
            value >>= 5
            more = value != -1 if code & 0x10 else value != 0
            chars.append(chr((code | (0x20 if more else 0)) + 48))
    return "".join(chars)


def check_rle(obj: object, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int, list[int]]:
    """``(height, width, run lengths)`` of an RLE object, or :class:`RleError` saying what is wrong."""
    if not isinstance(obj, Mapping) or set(obj) != {"size", "counts"}:
        raise RleError('a mask must be an object {"size": [height, width], "counts": ...} (COCO RLE)')
    size = obj["size"]
    if not isinstance(size, list) or len(size) != 2:
        raise RleError(f"'size' must be [height, width], got {size!r}"[:200])
    height, width = _dimension(size[0]), _dimension(size[1])
    if height * width > max_pixels:
        raise RleError(f"a {height}x{width} mask is over the limit of {max_pixels:,} pixels")
    raw = obj["counts"]
    if isinstance(raw, str):
        if len(raw) > 8 * (height * width + 1):
            raise RleError("the 'counts' string is longer than any mask of this size needs")
        counts = string_counts(raw)
    elif isinstance(raw, list):
        if len(raw) > height * width + 1:
            raise RleError("'counts' holds more runs than the mask has pixels")
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in raw):
            raise RleError("'counts' must be a COCO string or a list of integers >= 0")
        counts = [int(c) for c in raw]
    else:
        raise RleError("'counts' must be a COCO string or a list of integers >= 0")
    total = sum(counts)
    if total != height * width:
        raise RleError(f"'counts' add up to {total} pixels, but 'size' {height}x{width} has {height * width}")
    return height, width, counts


def decode(obj: object, max_pixels: int = DEFAULT_MAX_PIXELS) -> BoolArray:
    """The (h, w) bool mask of a checked RLE object (:func:`check_rle`)."""
    height, width, counts = check_rle(obj, max_pixels)
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return np.ascontiguousarray(flat.reshape(width, height).T)


def encode(mask: BoolArray) -> dict[str, object]:
    """The compressed COCO RLE object of a 2-D bool mask (what ``samples.jsonl`` stores)."""
    array = np.asarray(mask, dtype=bool)
    if array.ndim != 2 or 0 in array.shape:
        raise RleError(f"a mask must be a non-empty 2-D array, got shape {array.shape}")
    flat = array.T.reshape(-1)
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs = [0, *runs]
    return {"size": [int(array.shape[0]), int(array.shape[1])], "counts": counts_string(runs)}
