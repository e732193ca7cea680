"""OpenFake (Livernoche et al. 2025): Hugging Face parquet (``image, prompt, label, model``) or the CSV split
files of its ``experiments/`` code (``file_name,prompt,label,model,type,release_date``), labels the strings
``real``/``fake``.

Category = ``model`` for fakes (the generator), ``real`` for reals. A fake's ``release_date`` (``YYYY-MM-DD``,
or ``unknown``) gives metadata ``release_month`` and ``period`` (``YYYY-Qn``), the breakdown of AUC per period.

**Evaluation over time.** ``train_until=YYYY-MM`` keeps every real image and the fakes of generators released
*after* that month (a detector trained on data up to the cut-off meets only later generators); fakes released
in or before it, and fakes without a release date, are left out and counted in the notes.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import arg_path, check_args, read_csv_rows, require_data_root, safe_join
from spotfake.tasks.readers.hf_table import Table, image_file, load_table, unique_ids
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, label_map
from spotfake.tasks.readers.published import counts_by, require_prompt

ARGS = ("split", "csv", "data_files", "image_column", "train_until", "cache_dir", *LABEL_ARGS)
CSV_COLUMNS = ("file_name", "label", "model")
LAYOUT = "an OpenFake download (parquet shards with its README), a save_to_disk folder, or csv=<split CSV>"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def cutoff(spec: TaskSpec, value: Any) -> str | None:
    """The ``train_until`` month (``YYYY-MM``), None when not given; anything else is one line."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not MONTH.match(text):
        raise SpotfakeError(
            f"task {spec.name}: train_until must be a month YYYY-MM (e.g. 2024-06), got {text!r}"
        )
    return text


def release_month(value: Any) -> str | None:
    """``YYYY-MM`` of a release date (``2024-08-01``, ``2024-08``), None for ``unknown`` or empty."""
    text = str(value or "").strip()[:7]
    return text if MONTH.match(text) else None


def period_of(month: str) -> str:
    year, mm = month.split("-")
    return f"{year}-Q{(int(mm) - 1) // 3 + 1}"


def _csv_rows(spec: TaskSpec, root: Path, value: Any) -> tuple[list[dict[str, str]], Path]:
    path = arg_path(root, value)
    not_found = f"task {spec.name}: CSV not found: {path} (expected {', '.join(CSV_COLUMNS)}, ...)"
    return read_csv_rows(path, CSV_COLUMNS, not_found=not_found), path


def _csv_image(root: Path, name: str, source: Path, where: str) -> Path:
    """A CSV's ``file_name``: relative to the data root, or absolute inside it (the experiments' CSVs hold
    the paths their builder wrote)."""
    candidate = Path(name)
    if candidate.is_absolute():
        if not candidate.is_relative_to(root):
            raise SpotfakeError(f"{source} {where}: image {name!r} is outside the data root {root}; refused")
        name = candidate.relative_to(root).as_posix()  # a '..' in it is then refused by safe_join
    return safe_join(root, name, source=source, where=where)


def read_openfake(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """OpenFake (task args ``split``, ``csv``, ``data_files``, ``image_column``, ``train_until``, ``labels``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    until = cutoff(spec, args.get("train_until"))
    entries: list[tuple[str | None, Label, Path, dict[str, Any]]] = []
    files: list[Path]
    if args.get("csv"):
        root = require_data_root(spec, data_root, LAYOUT)
        rows, source = _csv_rows(spec, root, args["csv"])
        for index, row in enumerate(rows):
            where = f"row {index + 2}"
            label = labels.label(row["label"], source=source, where=where)
            if label is not None:
                path = _csv_image(root, row["file_name"], source, where)
                entries.append((row["file_name"], label, path, row))
        origin, files = str(source), [source]
    else:
        table = load_table(spec, data_root, args, layout=LAYOUT)
        entries = _table_entries(table, labels, args)
        origin, files = table.origin, table.files
    samples: list[Sample] = []
    candidates: list[str | None] = []
    dropped = {"released_until_cutoff": 0, "no_release_date": 0}
    for candidate, label, path, row in entries:
        model = str(row.get("model") or "").strip()
        month = release_month(row.get("release_date")) if label == "fake" else None
        if until is not None and label == "fake":
            if month is None:
                dropped["no_release_date"] += 1
                continue
            if month <= until:
                dropped["released_until_cutoff"] += 1
                continue
        metadata = {"model": model} if model else {}
        if month is not None:
            metadata.update(release_month=month, period=period_of(month))
        if row.get("type"):
            metadata["type"] = str(row["type"])
        category = model if label == "fake" and model else "real"
        samples.append(Sample("", label, prompt, (path,), category=category, metadata=metadata))
        candidates.append(candidate)
    if until is not None and not any(s.label == "fake" for s in samples):
        raise SpotfakeError(f"{origin}: no fake image of a generator released after train_until={until}")
    split = str(args.get("split", "test"))
    samples = [replace(s, id=sid) for sid, s in zip(unique_ids(candidates, split), samples, strict=True)]
    notes: dict[str, Any] = {"label_map": labels.declared, "counts": counts_by(samples)}
    if until is not None:
        notes.update(train_until=until, dropped_fakes=dropped)
    return TaskData(samples, files=files, notes=notes)


def _table_entries(
    table: Table, labels: LabelMap, args: dict[str, Any]
) -> list[tuple[str | None, Label, Path, dict[str, Any]]]:
    image_column = str(args.get("image_column", "image"))
    table.require(image_column, "label", "model")
    names = table.class_names("label")
    if names:
        labels.check_class_names(names, source=table.origin)
    entries = []
    for index, row in enumerate(table.rows(image_column)):
        where = f"row {index}"
        raw = names[row["label"]] if names else row["label"]
        label = labels.label(raw, source=table.origin, where=where)
        if label is None:
            continue
        path, name = image_file(row[image_column], table=table, cache_dir=args.get("cache_dir"), where=where)
        meta = {k: row.get(k) for k in ("model", "type", "release_date")}
        entries.append((name, label, path, meta))
    return entries
