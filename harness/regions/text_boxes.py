"""Boxes written in a language model's answer, with the coordinate frame of the format that wrote them.

Three formats are read, in the order they appear in the text:

- ``<box>(x0,y0),(x1,y1)</box>`` (Qwen-VL, often after ``<ref>...</ref>``) and
  ``<|box_start|>(x0,y0),(x1,y1)<|box_end|>`` (Qwen2-VL); the corners may also be written
  ``[x0, y0, x1, y1]`` inside the tags. Both families write corners on a **0-1000 grid** over the image
  (their model cards), so these boxes are scaled to the image's size;
- JSON ``"bbox_2d": [x0, y0, x1, y1]`` (Qwen2.5-VL's grounding output, alone, in a list, in a code fence or
  with single quotes): **absolute pixels** of the image as the model saw it. Where the processor resized
  the image, convert the boxes to the original's pixels and give them as ``boxes`` in a predictions file.

Anything else (a bare list of four numbers, ``"bbox"`` keys, which are [x, y, w, h] in COCO's files) is
not a box. Reversed corners are put in order; an incomplete tag is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spotfake.harness.regions.masks import Box, ordered

GRID = 1000.0
"""The 0-1000 grid of Qwen-VL and Qwen2-VL box tags."""

_NUM = r"[-+]?\d+(?:\.\d+)?"
_PAIRS = re.compile(rf"\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*,?\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)")
_LIST4 = rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]"
_TAG = re.compile(r"<box>(.*?)</box>|<\|box_start\|>(.*?)<\|box_end\|>", re.DOTALL)
_INNER_LIST = re.compile(_LIST4)
_JSON = re.compile(rf"""["']bbox_2d["']\s*:\s*{_LIST4}""")


@dataclass(frozen=True)
class TextBox:
    """One box from an answer: its corners, and the grid they are on (None: absolute pixels)."""

    box: Box
    grid: float | None

    def in_pixels(self, height: int, width: int) -> Box:
        """The box in pixels of an image of ``height`` x ``width``."""
        if self.grid is None:
            return self.box
        x0, y0, x1, y1 = self.box
        sx, sy = width / self.grid, height / self.grid
        return x0 * sx, y0 * sy, x1 * sx, y1 * sy


def _corners(groups: Sequence[str]) -> Box:
    return ordered([float(g) for g in groups])


def text_boxes(text: str | None) -> list[TextBox]:
    """Every box written in ``text`` (see the module docstring), in order of appearance."""
    if not text:
        return []
    found: list[tuple[int, TextBox]] = []
    for tag in _TAG.finditer(text):
        inner = (tag.group(1) if tag.group(1) is not None else tag.group(2)).strip()
        match = _PAIRS.fullmatch(inner) or _INNER_LIST.fullmatch(inner)
        if match is not None:
            found.append((tag.start(), TextBox(_corners(match.groups()), GRID)))
    for match in _JSON.finditer(text):
        found.append((match.start(), TextBox(_corners(match.groups()), None)))
    return [box for _, box in sorted(found, key=lambda item: item[0])]


def pixel_boxes(boxes: Sequence[TextBox], height: int, width: int) -> list[Box]:
    """``boxes`` in pixels of an image of ``height`` x ``width``."""
    return [b.in_pixels(height, width) for b in boxes]
