"""In-the-wild test sets published as a CSV list beside the images: Deepfake-Eval-2024 (images) and B-Free's
viral images. One sample per CSV row; the label is the row's own column, read through the declared map.

- **Deepfake-Eval-2024** (Chandra et al., arXiv:2503.02857; gated Hugging Face dataset
  ``nuriachandra/Deepfake-Eval-2024``): ``image-metadata-publish.csv`` with the columns ``Filename, Date,
  Ground Truth, Public Comments, Finetuning Set`` (``Ground Truth`` ``Real``/``Fake``, ``Finetuning Set``
  ``Train``/``Test``) and the images flat in ``image-data/<Filename>``. ``split`` picks the rows of one
  finetuning set (``test``, the default, is the split every detector of the paper can be scored on).
- **B-Free viral images** (Guillaro et al., CVPR 2025; ``grip-unina/B-Free:viral_images_dataset``):
  ``BFree_viral_images.csv`` with ``filename,label,source_id,date,days_since_1st_post,w,h,md5,url``, the
  images saved by the authors' ``download.ipynb`` at ``<root>/<filename>`` = ``{REAL,FAKE}/<source_id>/<img>``.
  The label column and the top folder must agree. Links die, so rows whose image was never downloaded are
  skipped and counted (``missing=skip``) or kept as error records (``missing=keep``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    choice_arg,
    read_csv_rows,
    require_data_root,
    safe_join,
)
from spotfake.tasks.readers.labelmap import LABEL_ARGS, agree, label_map
from spotfake.tasks.readers.published import (
    count_differences,
    counts_by,
    image_sample,
    listing,
    require_dir,
    require_prompt,
)

DFEVAL_COLUMNS = ("Filename", "Ground Truth", "Finetuning Set")
DFEVAL_SPLITS = ("test", "train", "all")
DFEVAL_PUBLISHED_IMAGES = 1975
"""The images of the dataset card and README ("1,975 images"), over both finetuning sets."""
DFEVAL_ARGS = ("csv", "images", "split", "cache_dir", *LABEL_ARGS)

BFREE_COLUMNS = ("filename", "label", "source_id", "date", "days_since_1st_post")
BFREE_PUBLISHED: dict[str, dict[str, int]] = {"all": {"real": 361, "fake": 750}}
"""The rows of ``BFree_viral_images.csv`` (grip-unina/B-Free c6a9f89): 1,111 images, 361 REAL and 750 FAKE."""
BFREE_ARGS = ("csv", "missing", "cache_dir", *LABEL_ARGS)


def read_deepfake_eval(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Deepfake-Eval-2024's images (task args ``csv``, ``images``, ``split``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, DFEVAL_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(
        spec, data_root, "the Deepfake-Eval-2024 download holding image-metadata-publish.csv and image-data/"
    )
    source = arg_path(root, args.get("csv", "image-metadata-publish.csv"))
    rows = read_csv_rows(
        source,
        DFEVAL_COLUMNS,
        not_found=f"task {spec.name}: metadata CSV not found: {source} (the dataset's image-metadata-publish.csv; "
        "task argument csv)",
    )
    images = require_dir(
        arg_path(root, args.get("images", "image-data")),
        task=spec.name,
        what="the dataset's image-data/ folder (task argument images)",
    )
    split = choice_arg(spec, "split", args.get("split", "test"), DFEVAL_SPLITS)
    samples: list[Sample] = []
    for index, row in enumerate(rows):
        where = f"row {index + 2}"
        finetuning = (row.get("Finetuning Set") or "").strip()
        if split != "all" and finetuning.casefold() != split:
            continue
        label = labels.label(row["Ground Truth"].strip(), source=source, where=f"{where} (Ground Truth)")
        if label is None:
            continue
        path = safe_join(images, row["Filename"], source=source, where=where)
        metadata = {"finetuning_set": finetuning, "date": (row.get("Date") or "").strip()}
        samples.append(image_sample(root, path, label, prompt, category=None, metadata=metadata))
    if not samples:
        raise SpotfakeError(
            f"task {spec.name}: no row of {source} is in finetuning set {split!r} (split=...)"
        )
    counts = counts_by(samples, "finetuning_set")
    total = len(samples)
    notes: dict[str, Any] = {
        "label_map": labels.declared,
        "split": split,
        "counts": counts,
        "images_missing": sum(not s.images[0].exists() for s in samples),
    }
    if split == "all" and total != DFEVAL_PUBLISHED_IMAGES:
        notes["count_differences"] = [f"all: {total} images, published {DFEVAL_PUBLISHED_IMAGES}"]
    return TaskData(
        samples,
        files=[source, listing("deepfake-eval-2024", root, samples, args.get("cache_dir"))],
        notes=notes,
    )


def read_bfree_viral(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """B-Free's viral images as downloaded from their CSV (task args ``csv``, ``missing``, ``labels``,
    ``cache_dir``)."""
    check_args(spec, args, BFREE_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(spec, data_root, "the download folder holding {REAL,FAKE}/<source_id>/ images")
    source = arg_path(root, args.get("csv", "BFree_viral_images.csv"))
    rows = read_csv_rows(
        source,
        BFREE_COLUMNS,
        not_found=f"task {spec.name}: CSV list not found: {source} (B-Free's viral_images_dataset/"
        "BFree_viral_images.csv; task argument csv)",
    )
    samples: list[Sample] = []
    for index, row in enumerate(rows):
        where = f"row {index + 2}"
        path = safe_join(root, row["filename"], source=source, where=where)
        top = PurePosixPath(row["filename"].strip().replace("\\", "/")).parts[0]
        by_label = labels.label(row["label"].strip(), source=source, where=f"{where} (label)")
        by_folder = labels.label(top, source=source, where=f"{where} (folder {top!r})")
        if by_label is None or by_folder is None:
            continue
        label = agree(
            spec.name, by_label, by_folder, source=source, where=where,
            first_from=f"label {row['label'].strip()!r}", second_from=f"the folder {top!r}",
        )  # fmt: skip
        metadata = {
            "source_id": row["source_id"].strip(),
            "date": row["date"].strip(),
            "days_since_1st_post": row["days_since_1st_post"].strip(),
        }
        samples.append(image_sample(root, path, label, prompt, category=None, metadata=metadata))
    listed = _totals(samples)
    missing = choice_arg(spec, "missing", args.get("missing", "skip"), ("skip", "keep"))
    downloaded = [s for s in samples if s.images[0].exists()]
    absent = len(samples) - len(downloaded)
    if missing == "skip":
        samples = downloaded
    if not samples and not absent:
        raise SpotfakeError(
            f"task {spec.name}: {source} lists no image its label map keeps ({labels.declared})"
        )
    if not samples:
        raise SpotfakeError(f"task {spec.name}: none of the {absent} images of {source} is below {root}")
    notes = {
        "label_map": labels.declared,
        "counts": _totals(samples),
        "images_not_downloaded": absent,
        "count_differences": count_differences(listed, BFREE_PUBLISHED),
    }
    return TaskData(
        samples, files=[source, listing("bfree-viral", root, samples, args.get("cache_dir"))], notes=notes
    )


def _totals(samples: list[Sample]) -> dict[str, dict[str, int]]:
    """``{"all": {"real": n, "fake": n}}`` for a set with no categories."""
    return {
        "all": {
            "real": sum(s.label == "real" for s in samples),
            "fake": sum(s.label == "fake" for s in samples),
        }
    }
