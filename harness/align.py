"""Aligned task variants (``--task-args align=...``): the same images with the format or size cue that tells
real from fake in some datasets taken away, so a detector is compared on content.

``align`` is an engine argument like ``parser``: the reader never sees it, and as a task argument it is in
the run key, the folder name and ``results.json``. The transform runs after decoding and before any
``--perturb`` step, and depends only on the sample's label and its pixels.

=================  ===========================================================================================
``jpeg96-fakes``   the synthetic images are JPEG-compressed at quality 96 (DDA's protocol: reals in GenImage,
                   ForenSynths and AIGCDetectBenchmark are mostly JPEG, fakes PNG)
``jpeg96-all``     every image is JPEG-compressed at quality 96 (the stricter check: a detector that reads
                   the format drops to chance)
``crop<N>``        every image is centre-cropped to N x N pixels (smaller sides are kept), so image size says
                   nothing about the class; e.g. ``crop256``
=================  ===========================================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.types import Sample

ALIGN_ARGS = ("align",)
"""Task arguments the engine reads; readers never see them."""
ALIGNMENTS = ("jpeg96-fakes", "jpeg96-all", "crop<N>")
_CROP = re.compile(r"^crop([1-9][0-9]{0,4})$")

ImageStep = Callable[[Any], Any]
ImageHook = Callable[[str, list[Any]], list[Any]]
"""``(sample_id, images) -> images``: what the decoder applies to each sample's decoded images."""


def check_align_args(task: str, args: MutableMapping[str, Any]) -> str | None:
    """The alignment a task's arguments ask for (None for none); one line for an unknown one."""
    raw = args.get("align")
    if raw is None:
        return None
    name = str(raw).strip().lower()
    if name in ("", "none"):
        args.pop("align")
        return None
    if name not in ("jpeg96-fakes", "jpeg96-all") and not _CROP.match(name):
        raise SpotfakeError(
            f"task {task}: unknown align={raw!r} (valid: {', '.join(ALIGNMENTS)}, e.g. crop256)"
        )
    args["align"] = name
    return name


def _jpeg96(image: Any) -> Any:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=96)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def _center_crop(size: int) -> ImageStep:
    def crop(image: Any) -> Any:
        width, height = image.size
        w, h = min(size, width), min(size, height)
        left, top = (width - w) // 2, (height - h) // 2
        return image.crop((left, top, left + w, top + h))

    return crop


def align_step(name: str, label: str | None) -> ImageStep | None:
    """What ``align=name`` does to one image of a sample with ``label`` (None: nothing)."""
    if name == "jpeg96-all" or (name == "jpeg96-fakes" and label == "fake"):
        return _jpeg96
    crop = _CROP.match(name)
    if crop:
        return _center_crop(int(crop.group(1)))
    return None


def align_transform(name: str | None, samples: list[Sample]) -> ImageHook | None:
    """A ``(sample_id, images) -> images`` hook for the decoder, or None without an alignment."""
    if name is None:
        return None
    labels: Mapping[str, str | None] = {s.id: s.label for s in samples}

    def transform(sample_id: str, images: list[Any]) -> list[Any]:
        step = align_step(name, labels.get(sample_id))
        return images if step is None else [step(image) for image in images]

    return transform
