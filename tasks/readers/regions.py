"""What the localisation tasks' readers share: the truth region written into a sample's metadata.

The metadata keys are the engine's (:mod:`harness.regions.overlap`): ``mask`` (where a mask image is,
relative to the data root or spotfake's cache: never a path of the machine),
``regions`` (JSON polygons of the referred regions with the canvas size) and ``image_size`` (JSON
``[h, w]`` of the image, written only when it differs from the mask's, so pixel boxes can be scaled).
These readers open image headers (never pixels) where the truth needs a size; a header that cannot be
read is one line naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.regions.overlap import IMAGE_SIZE, TRUTH_MASK, TRUTH_REGIONS, TruthRoots
from spotfake.tasks.readers.hf_table import Table, image_file


def header_size(path: Path, *, what: str) -> tuple[int, int]:
    """``(height, width)`` from an image file's header; one line naming it when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError:
        raise SpotfakeError(f"{what}: image not found: {path}; is --data-root right?") from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise SpotfakeError(f"{what}: cannot read the size of {path} ({type(exc).__name__})") from None
    return height, width


def mask_metadata(mask: Path, image: Path | None, *, roots: TruthRoots, what: str) -> dict[str, str]:
    """``{"mask": reference}`` (the mask's path relative to ``roots``, :meth:`TruthRoots.reference`), with
    ``image_size`` when ``image`` is given and its size differs from the mask's."""
    out = {TRUTH_MASK: roots.reference(mask)}
    if image is not None:
        image_size = header_size(image, what=what)
        if image_size != header_size(mask, what=what):
            out[IMAGE_SIZE] = json.dumps(list(image_size))
    return out


def regions_metadata(size: tuple[int, int], refs: Sequence[Sequence[Sequence[float]]]) -> dict[str, str]:
    """``{"regions": JSON}`` of referred regions (each a list of flat polygons) on a ``size`` canvas."""
    data = {"size": list(size), "refs": [[list(p) for p in ref] for ref in refs]}
    return {TRUTH_REGIONS: json.dumps(data, separators=(",", ":"))}


def undecoded(table: Table, column: str) -> Any:
    """``table``'s dataset with an ``Image`` column left undecoded (``{"bytes", "path"}`` per row)."""
    import datasets

    if isinstance(table.feature(column), datasets.Image):
        return table.dataset.cast_column(column, datasets.Image(decode=False))
    return table.dataset


def mask_of(value: Any, image: Path, *, table: Table, cache_dir: Any, where: str) -> dict[str, str]:
    """The truth metadata of a row's mask cell (written to the cache like an image); ``{}`` for an empty
    cell (a row without a mask)."""
    empty = value is None or (isinstance(value, dict) and not value.get("bytes") and not value.get("path"))
    if empty:
        return {}
    path, _name = image_file(
        value, table=table, cache_dir=cache_dir, where=f"{where} mask", name_hint="mask.png"
    )
    roots = TruthRoots.of(table.base, cache_dir)
    return mask_metadata(path, image, roots=roots, what=f"{table.origin} {where}")
