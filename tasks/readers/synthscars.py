"""SynthScars (Kang et al., LEGION, ICCV 2025): fully synthetic images, artifact regions and explanations.

Layout (``opendatalab/LEGION`` README): ``SynthScars/<split>/images/*`` and
``SynthScars/<split>/annoations/<split>.json`` (the README's spelling; ``annotations/`` is read too, as
LEGION's training code names it). ``--data-root`` is the ``SynthScars`` folder; ``split`` is ``test``
(1,000 images) or ``train``.

The annotation file is a JSON list with one record per image, each either the record itself or an object
holding it under one key (as LEGION's loader unwraps it with ``next(iter(item.values()))``). A record has
``img_file_name`` (the image, found by its file name under ``images/``), ``caption`` (the explanation of
the image's artifacts) and ``refs``, the referred artifact regions, each with ``segmentation``: a list of
flat ``[x1, y1, x2, y2, ...]`` polygons in the image's pixels (as ``pycocotools`` reads them in LEGION).

Every sample is fake; its reference explanation is the caption (quotes stripped, as LEGION strips them);
its truth region is the union of every ref's polygons (as LEGION's ``eval/utils.py generate_mask``), with
one truth box per ref, in metadata ``regions`` with the image's size (read from its header). An image
named by more than one record (the train split has some) becomes one sample per record, ids
``<name>#2``, ``<name>#3``, ...
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import (
    check_args,
    choice_arg,
    read_json_file,
    require_data_root,
    require_list,
)
from spotfake.tasks.readers.published import require_prompt
from spotfake.tasks.readers.regions import header_size, regions_metadata

SPLITS = ("test", "train")
ANNOTATION_DIRS = ("annoations", "annotations")
ARGS = ("split", "cache_dir")
LAYOUT = "the SynthScars folder holding <split>/images/ and <split>/annoations/<split>.json"


def annotation_file(spec: TaskSpec, base: Path, split: str) -> Path:
    """``<split>/annoations/<split>.json`` (or ``annotations/``)."""
    for folder in ANNOTATION_DIRS:
        path = base / folder / f"{split}.json"
        if path.is_file():
            return path
    raise SpotfakeError(
        f"task {spec.name}: annotation file not found: {base / ANNOTATION_DIRS[0] / f'{split}.json'} "
        f"(expected {LAYOUT})"
    )


def _record(item: Any, path: Path, where: str) -> dict[str, Any]:
    """The annotation record of one list item (itself, or the one value of a one-key wrapper)."""
    if isinstance(item, dict) and "img_file_name" not in item and len(item) == 1:
        item = next(iter(item.values()))
    if not isinstance(item, dict) or not isinstance(item.get("img_file_name"), str):
        raise SpotfakeError(f"{path} {where}: expected a record with 'img_file_name', 'caption' and 'refs'")
    return item


def _polygons(ref: Any, path: Path, where: str) -> list[list[float]]:
    """A ref's polygons: ``segmentation`` as a list of flat lists of numbers."""
    segmentation = ref.get("segmentation") if isinstance(ref, dict) else None
    valid = isinstance(segmentation, list) and all(
        isinstance(p, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
        for p in segmentation
    )
    if not valid:
        raise SpotfakeError(f"{path} {where}: 'segmentation' must be a list of flat [x1, y1, ...] polygons")
    assert isinstance(segmentation, list)
    return [[float(v) for v in p] for p in segmentation]


def read_synthscars(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """SynthScars (task args ``split``, ``cache_dir``)."""
    check_args(spec, args, ARGS)
    prompt = require_prompt(spec)
    split = choice_arg(spec, "split", args.get("split", "test"), SPLITS)
    root = require_data_root(spec, data_root, LAYOUT)
    base = root / split
    ann_path = annotation_file(spec, base, split)
    items = require_list(read_json_file(ann_path, what=f"SynthScars {split}.json"), ann_path, "records")
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    n_refs = 0
    for index, item in enumerate(items):
        where = f"record {index}"
        record = _record(item, ann_path, where)
        name = posixpath.basename(record["img_file_name"].replace("\\", "/"))
        image = base / "images" / name
        if not name or not image.is_file():
            raise SpotfakeError(f"{ann_path} {where}: image {name!r} not found in {base / 'images'}")
        refs = record.get("refs")
        if not isinstance(refs, list):
            raise SpotfakeError(f"{ann_path} {where}: 'refs' must be a list of referred regions")
        polygons = [_polygons(ref, ann_path, f"{where} ref {k}") for k, ref in enumerate(refs)]
        n_refs += len(polygons)
        caption = record.get("caption")
        reference = caption.strip().strip('"').strip() if isinstance(caption, str) else ""
        seen[name] = seen.get(name, 0) + 1
        sid = name if seen[name] == 1 else f"{name}#{seen[name]}"
        size = header_size(image, what=f"{ann_path} {where}")
        samples.append(
            Sample(
                sid,
                "fake",
                prompt,
                (image,),
                references=(reference,) if reference else (),
                category=None,
                metadata=regions_metadata(size, polygons),
            )
        )
    if not samples:
        raise SpotfakeError(f"{ann_path}: no records")
    notes = {
        "split": split,
        "images": len(samples),
        "refs": n_refs,
        "repeated_images": sum(1 for n in seen.values() if n > 1),
        "without_caption": sum(1 for s in samples if not s.references),
    }
    return TaskData(samples, files=[ann_path], notes=notes)
