"""So-Fake-OOD (Huang et al. 2025) from its Hugging Face parquet shards, with the label map of its version.

The two published versions number the classes differently (dataset card of ``saberzl/So-Fake-OOD``):

- **v1** (100,000 images): ``label`` 0 = full_synthetic, 1 = real, 2 = tampered; columns image, label, mask, filename;
- **v2** (99,722 images): ``label`` 0 = real, 1 = tampered, 2 = full_synthetic; adds generator, source, split.

The version is read from the data itself: the ``ClassLabel`` names of ``label`` (the card's own map), else the
v2-only columns (``generator`` and ``source``). A copy whose labels are plain integers without those columns
could be either, and is refused with one line (``version=v1`` or ``version=v2`` then declares it, checked
against whatever the data does say). Real -> real, full_synthetic -> fake, tampered -> fake
(``tampered=drop`` leaves the partly edited images out). Category = ``generator`` for v2 fakes, the class
(``full_synthetic``/``tampered``) for v1 fakes, ``real`` for reals; metadata ``kind`` is the class.

``masks=true`` (the ``sofake-ood-loc`` task) also reads the ``mask`` column, which the card gives for the
tampered images: each tampered image's mask is written to the cache like the images and becomes its truth
region (metadata ``mask``, and ``image_size`` where the image's size differs from the mask's:
:mod:`tasks.readers.regions`); a tampered row without a mask has no truth region (counted in the notes).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import check_args, choice_arg
from spotfake.tasks.readers.hf_table import Table, image_file, load_table, unique_ids
from spotfake.tasks.readers.labelmap import LabelMap
from spotfake.tasks.readers.published import counts_by, require_prompt
from spotfake.tasks.readers.regions import mask_of, undecoded

VERSIONS: dict[str, tuple[str, ...]] = {
    "v1": ("full_synthetic", "real", "tampered"),
    "v2": ("real", "tampered", "full_synthetic"),
}
"""Class names by label index, per version (the dataset cards' ``class_label`` names)."""
PUBLISHED_ROWS = {"v1": 100_000, "v2": 99_722}
"""The test split's size on each version's card."""
V2_COLUMNS = ("generator", "source")
ARGS = ("version", "tampered", "split", "data_files", "image_column", "cache_dir", "masks")
LAYOUT = "a So-Fake-OOD download (data/test-*.parquet with its README) or a save_to_disk folder"


def version_of(table: Table, wanted: str) -> str:
    """``v1``/``v2`` as the data says it (class names, then v2's columns), checked against ``wanted``."""
    names = table.class_names("label")
    by_names = next((v for v, n in VERSIONS.items() if names is not None and list(n) == names), None)
    if names is not None and by_names is None:
        raise SpotfakeError(
            f"{table.origin}: label names {names} are neither So-Fake-OOD v1 {list(VERSIONS['v1'])} "
            f"nor v2 {list(VERSIONS['v2'])}; refused rather than guessed"
        )
    has_v2 = all(c in table.columns for c in V2_COLUMNS)
    said = by_names or ("v2" if has_v2 else None)
    if by_names == "v1" and has_v2:
        raise SpotfakeError(
            f"{table.origin}: label names are v1's but the columns {', '.join(V2_COLUMNS)} are v2's; refused"
        )
    if wanted != "auto":
        if said is not None and said != wanted:
            raise SpotfakeError(
                f"{table.origin}: version={wanted} was declared, but the data is So-Fake-OOD {said} "
                f"({'its label names' if by_names else 'its columns'}); refused rather than scoring inverted labels"
            )
        return wanted
    if said is None:
        raise SpotfakeError(
            f"{table.origin}: cannot tell So-Fake-OOD v1 (0 = full_synthetic, 1 = real) from v2 (0 = real, "
            "2 = full_synthetic): 'label' has no class names and there is no generator/source column; "
            "declare it with --task-args version=v1 or version=v2 after checking the dataset card"
        )
    return said


def label_map_of(task: str, version: str, tampered: str) -> LabelMap:
    """The declared map of ``version``: index -> real/fake/drop."""
    meaning = {"real": "real", "full_synthetic": "fake", "tampered": "fake" if tampered == "fake" else "drop"}
    return LabelMap.parse(task, "|".join(f"{i}:{meaning[name]}" for i, name in enumerate(VERSIONS[version])))


def read_sofake_ood(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """So-Fake-OOD (task args ``version``, ``tampered``, ``split``, ``data_files``, ``image_column``,
    ``cache_dir``, ``masks``)."""
    check_args(spec, args, ARGS)
    prompt = require_prompt(spec)
    wanted = choice_arg(spec, "version", args.get("version", "auto"), ("auto", "v1", "v2"))
    tampered = choice_arg(spec, "tampered", args.get("tampered", "fake"), ("fake", "drop"))
    table = load_table(spec, data_root, args, layout=LAYOUT)
    image_column = str(args.get("image_column", "image"))
    table.require(image_column, "label")
    version = version_of(table, wanted)
    labels = label_map_of(spec.name, version, tampered)
    masks = choice_arg(spec, "masks", str(args.get("masks", "false")).lower(), ("false", "true")) == "true"
    if masks:
        table.require("mask")
        table.dataset = undecoded(table, "mask")
    without_mask = 0
    rows: list[tuple[str | None, Sample]] = []
    for index, row in enumerate(table.rows(image_column)):
        where = f"row {index}"
        raw = row["label"]
        label = labels.label(raw, source=table.origin, where=where)
        if label is None:
            continue
        kind = VERSIONS[version][int(raw)]
        path, name = image_file(row[image_column], table=table, cache_dir=args.get("cache_dir"), where=where)
        generator = str(row.get("generator") or "").strip()
        category = "real" if label == "real" else (generator or kind)
        metadata = {"kind": kind, **({"source": str(row["source"])} if row.get("source") else {})}
        if masks and kind == "tampered":
            truth = mask_of(row.get("mask"), path, table=table, cache_dir=args.get("cache_dir"), where=where)
            metadata.update(truth)
            without_mask += not truth
        rows.append(
            (
                row.get("filename") or name,
                Sample("", label, prompt, (path,), category=category, metadata=metadata),
            )
        )
    split = str(args.get("split", "test"))
    if not rows:
        raise SpotfakeError(f"{table.origin}: split {split!r} has no rows")
    ids = unique_ids([c for c, _ in rows], split)
    samples = [replace(s, id=sid) for sid, (_, s) in zip(ids, rows, strict=True)]
    rows_read, published = len(rows), PUBLISHED_ROWS[version]
    notes = {
        "version": version,
        "label_map": labels.declared,
        "tampered": tampered,
        "counts": counts_by(samples),
        **({"tampered_without_mask": without_mask} if masks else {}),
        "count_differences": [] if rows_read == published else [f"{rows_read} rows, published {published}"],
    }
    return TaskData(samples, files=table.files, notes=notes)
