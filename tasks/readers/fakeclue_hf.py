"""FakeClue through the Hugging Face ``datasets`` library: a local dataset folder or a Hub id.

``--data-root`` may be a folder written by ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``), or any
folder ``datasets.load_dataset`` reads (parquet/JSON files, an ``imagefolder`` with ``metadata.jsonl``),
read as every local Hugging Face table is (:func:`.hf_table.load_table`).
Without ``--data-root`` the ``hub_id`` task argument (``lingcco/FakeClue``) is loaded from the Hub, which
needs a connection or a filled Hugging Face cache.

Rows have FakeClue's fields (``image``, ``label`` 0 = fake / 1 = real, ``cate``, ``conversations``). The
image column is either a path string (resolved under ``image_dir``, refused if it leaves it) or an
``Image`` feature: a file path inside the data root is used in place, and embedded bytes are written once
to a content-addressed cache (``<cache>/images/``) so that the runner can load them lazily like any file.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    relative_id,
    safe_join,
    strip_image_tokens,
)
from spotfake.tasks.readers.fakeclue import conversation_turns, parse_label, source_of
from spotfake.tasks.readers.hf_table import Table, image_file, load_table, unique_ids

ARGS = ("split", "hub_id", "revision", "data_files", "image_dir", "image_column", "id_column", "cache_dir")
LAYOUT = "a Hugging Face datasets folder (save_to_disk, parquet/JSON files or an imagefolder)"


def read_fakeclue_hf(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for FakeClue as a Hugging Face dataset (see the module docstring for the task args)."""
    check_args(spec, args, ARGS)
    require("datasets", "hf", f"task {spec.name!r} (a Hugging Face dataset)")
    import datasets

    split = str(args.get("split", "test"))
    table = (
        _hub_table(spec, args, split)
        if data_root is None
        else load_table(spec, data_root, args, layout=LAYOUT)
    )
    origin, base = table.origin, table.base
    image_col = str(args.get("image_column", "image"))
    if image_col not in table.columns:
        raise SpotfakeError(
            f"{origin}: no column {image_col!r} (columns: {', '.join(table.columns)}); set image_column"
        )
    id_column = args.get("id_column")
    if id_column and str(id_column) not in table.columns:
        raise SpotfakeError(
            f"{origin}: no column {id_column!r} for id_column (columns: {', '.join(table.columns)})"
        )
    image_dir = (
        arg_path(base, args["image_dir"], split) if args.get("image_dir") else _default_image_dir(base, split)
    )
    embedded = isinstance(table.feature(image_col), datasets.Image)
    label_feature = table.feature("label")
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(table.rows(image_col)):
        where = f"row {index}"
        value = row[image_col]
        if embedded and isinstance(value, dict) and value.get("bytes"):
            path, name = image_file(value, table=table, cache_dir=args.get("cache_dir"), where=where)
        elif embedded:
            path, name = _image_path(value, image_dir, base, origin, where)
        else:
            path = safe_join(image_dir, value, source=origin, where=where)
            name = relative_id(value)
        label = _label(row.get("label"), label_feature, origin, f"{where} (image {name!r})")
        question, answer = conversation_turns(row.get("conversations"), source=origin, where=where)
        source = row.get("source") or row.get("dataset_type") or (source_of(name) if name else None)
        rows.append(
            {
                "name": name,
                "path": path,
                "label": label,
                "prompt": spec.prompt.strip() if spec.prompt else strip_image_tokens(question),
                "reference": answer.strip(),
                "category": row.get("cate") or None,
                "source": str(source) if source else None,
                "id": row.get(str(args["id_column"])) if args.get("id_column") else row.get("id"),
            }
        )
    if not rows:
        raise SpotfakeError(f"{origin}: split {split!r} has no rows")
    ids = _ids(rows, split, args.get("id_column"), origin)
    samples = [
        Sample(
            id=sid,
            label=r["label"],
            prompt=r["prompt"],
            images=(r["path"],),
            references=(r["reference"],) if r["reference"] else (),
            category=r["category"],
            metadata={"source": r["source"]} if r["source"] else {},
        )
        for sid, r in zip(ids, rows, strict=True)
    ]
    return TaskData(
        samples,
        files=table.files,
        notes={"split": split, "loaded_from": "hub" if data_root is None else "local"},
    )


def _hub_table(spec: TaskSpec, args: dict[str, Any], split: str) -> Table:
    """The ``split`` of the ``hub_id`` task argument, from the Hub or the Hugging Face cache (relative image
    paths are then resolved from the working folder). A local folder is read by :func:`.hf_table.load_table`."""
    import datasets

    hub_id = args.get("hub_id")
    if not hub_id:
        raise SpotfakeError(f"task {spec.name} needs --data-root ({LAYOUT}) or a hub_id task argument")
    data_files = args.get("data_files")
    files_arg = {split: str(data_files or f"data_json/{split}.json").replace("{split}", split)}
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        ds = datasets.load_dataset(
            str(hub_id),
            split=split,
            data_files=files_arg,
            revision=args.get("revision"),
            cache_dir=str(args["cache_dir"]) if args.get("cache_dir") else None,
        )
    except Exception as exc:  # network, auth or format problems all end the same way for the user
        raise SpotfakeError(
            f"cannot load {hub_id!r} split {split!r} from the Hugging Face Hub ({_first_line(exc)}); "
            "download it and pass --data-root"
        ) from None
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    return Table(ds, str(hub_id), Path.cwd(), [Path(f["filename"]) for f in ds.cache_files])


def _default_image_dir(base: Path, split: str) -> Path:
    """Path strings are looked up under ``<base>/<split>`` (FakeClue's layout) when it exists, else ``<base>``."""
    candidate = base / split
    return candidate if candidate.is_dir() else base


def _image_path(value: Any, image_dir: Path, root: Path, origin: str, where: str) -> tuple[Path, str | None]:
    """Where an ``Image`` feature without bytes points: a relative path under ``image_dir``, an absolute one
    inside the data root (embedded bytes are cached by :func:`.hf_table.image_file`)."""
    if not isinstance(value, dict):
        raise SpotfakeError(f"{origin} {where}: empty image")
    name = value.get("path")
    if not name:
        raise SpotfakeError(f"{origin} {where}: image has neither bytes nor a path")
    if Path(name).is_absolute():
        resolved = Path(posixpath.normpath(name))
        if not resolved.is_relative_to(root):
            raise SpotfakeError(
                f"{origin} {where}: image path {name!r} is outside the data root {root}; refused"
            )
        base = image_dir if resolved.is_relative_to(image_dir) else root
        return resolved, resolved.relative_to(base).as_posix()
    return safe_join(image_dir, name, source=origin, where=where), name


def _label(value: Any, feature: Any, origin: str, where: str) -> Label:
    """A label value; a ``ClassLabel`` is read through its names, so ``["real", "fake"]`` is honoured."""
    import datasets

    if isinstance(feature, datasets.ClassLabel) and isinstance(value, int) and not isinstance(value, bool):
        return parse_label(feature.int2str(value), source=origin, where=where)
    return parse_label(value, source=origin, where=where)


def _ids(rows: list[dict[str, Any]], split: str, id_column: Any, origin: str) -> list[str]:
    """Sample ids: an id column when there is one, else the image paths when unique, else ``<split>/<row>``."""
    if id_column or all(r["id"] is not None for r in rows):
        ids = [str(r["id"]) for r in rows]
        if len(set(ids)) != len(ids):
            raise SpotfakeError(f"{origin}: the id column has duplicates; choose another with id_column")
        return ids
    return unique_ids([r["name"] for r in rows], split)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
