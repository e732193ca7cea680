"""Community Forensics evaluation data (Park & Owens, CVPR 2025) from its Hugging Face parquet shards.

Rows have the columns of ``OwensLab/CommunityForensics`` (``image_name``, ``format``, ``image_data`` (binary),
``model_name``, ``real_source``, ``subset``, ``split``, ``label``, and ``architecture`` in the Eval set); the
authors' loader (``dataloader.py``) reads ``image_data``, ``label`` (0 real, 1 fake) and ``model_name``.
Category = ``model_name`` for fakes (the generator), ``real`` for reals; ``real_source``, ``architecture`` and
``subset`` are metadata (breakdowns) where the data has them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import check_args
from spotfake.tasks.readers.hf_table import image_file, load_table, unique_ids
from spotfake.tasks.readers.labelmap import LABEL_ARGS, label_map
from spotfake.tasks.readers.published import counts_by, require_prompt

ARGS = ("split", "data_files", "image_column", "cache_dir", *LABEL_ARGS)
LAYOUT = "a Community Forensics download (data/<split>-*.parquet with its README) or a save_to_disk folder"
METADATA = ("real_source", "architecture", "subset")
PUBLISHED_ROWS = {"PublicEval": 51_836, "CompEval": 51_836}
"""Split sizes on the cards (CommunityForensics' PublicEval; CommunityForensics-Eval's CompEval)."""


def read_commfor(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Community Forensics (task args ``split``, ``data_files``, ``image_column``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    table = load_table(spec, data_root, args, layout=LAYOUT)
    image_column = str(args.get("image_column", "image_data"))
    table.require(image_column, "label", "model_name")
    names = table.class_names("label")
    if names:
        labels.check_class_names(names, source=table.origin)
    split = str(args.get("split", "test"))
    rows: list[tuple[str | None, Sample]] = []
    for index, row in enumerate(table.rows(image_column)):
        where = f"row {index}"
        label = labels.label(row["label"], source=table.origin, where=where)
        if label is None:
            continue
        name = row.get("image_name")
        hint = name or f"image.{str(row.get('format') or '').lower()}"
        path, _ = image_file(
            row[image_column], table=table, cache_dir=args.get("cache_dir"), where=where, name_hint=hint
        )
        generator = str(row.get("model_name") or "").strip()
        metadata = {k: str(row[k]) for k in METADATA if row.get(k) not in (None, "")}
        if generator:
            metadata["model_name"] = generator
        category = generator if label == "fake" and generator else "real"
        candidate = f"{generator or label}/{name}" if name else None
        rows.append(
            (
                candidate,
                Sample(
                    id="", label=label, prompt=prompt, images=(path,), category=category, metadata=metadata
                ),
            )
        )
    if not rows:
        raise SpotfakeError(f"{table.origin}: split {split!r} has no rows with a declared label")
    ids = unique_ids([c for c, _ in rows], split)
    samples = [replace(s, id=sid) for sid, (_, s) in zip(ids, rows, strict=True)]
    published = PUBLISHED_ROWS.get(split)
    differs = published is not None and len(rows) != published
    notes = {
        "label_map": labels.declared,
        "split": split,
        "counts": counts_by(samples),
        "count_differences": [f"{len(rows)} rows, published {published}"] if differs else [],
    }
    return TaskData(samples, files=table.files, notes=notes)
