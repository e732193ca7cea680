"""FakeClue through the Hugging Face ``datasets`` library: a local dataset folder or a Hub id.

``--data-root`` may be a folder written by ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``), or any
folder ``datasets.load_dataset`` reads (parquet/JSON files, an ``imagefolder`` with ``metadata.jsonl``).
Without ``--data-root`` the ``hub_id`` task argument (``lingcco/FakeClue``) is loaded from the Hub, which
needs a connection or a filled Hugging Face cache.

Rows have FakeClue's fields (``image``, ``label`` 0 = fake / 1 = real, ``cate``, ``conversations``). The
image column is either a path string (resolved under ``image_dir``, refused if it leaves it) or an
``Image`` feature: a file path inside the data root is used in place, and embedded bytes are written once
to a content-addressed cache (``<cache>/images/``) so that the runner can load them lazily like any file.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.io import atomic_write_bytes
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    arg_path,
    cache_root,
    check_args,
    relative_id,
    require_data_root,
    safe_join,
    strip_image_tokens,
)
from spotfake.tasks.readers.fakeclue import conversation_turns, parse_label, source_of

ARGS = ("split", "hub_id", "revision", "data_files", "image_dir", "image_column", "id_column", "cache_dir")
DATA_SUFFIXES = (".arrow", ".parquet", ".json", ".jsonl", ".csv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
LAYOUT = "a Hugging Face datasets folder (save_to_disk, parquet/JSON files or an imagefolder)"


def read_fakeclue_hf(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for FakeClue as a Hugging Face dataset (see the module docstring for the task args)."""
    check_args(spec, args, ARGS)
    require("datasets", "hf", f"task {spec.name!r} (a Hugging Face dataset)")
    import datasets

    split = str(args.get("split", "test"))
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        ds, files, origin, base = _load(spec, data_root, args, split)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    image_col = str(args.get("image_column", "image"))
    if image_col not in ds.column_names:
        raise SpotfakeError(
            f"{origin}: no column {image_col!r} (columns: {', '.join(ds.column_names)}); set image_column"
        )
    id_column = args.get("id_column")
    if id_column and str(id_column) not in ds.column_names:
        raise SpotfakeError(
            f"{origin}: no column {id_column!r} for id_column (columns: {', '.join(ds.column_names)})"
        )
    image_dir = (
        arg_path(base, args["image_dir"], split) if args.get("image_dir") else _default_image_dir(base, split)
    )
    embedded = isinstance(ds.features[image_col], datasets.Image)
    if embedded:
        ds = ds.cast_column(image_col, datasets.Image(decode=False))
    label_feature = ds.features.get("label")
    images_cache = cache_root(args.get("cache_dir")) / "images"
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(ds):
        where = f"row {index}"
        value = row[image_col]
        if embedded:
            path, name = _embedded_image(value, image_dir, base, images_cache, origin, where)
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
        samples, files=files, notes={"split": split, "loaded_from": "hub" if data_root is None else "local"}
    )


def _load(
    spec: TaskSpec, data_root: Path | None, args: dict[str, Any], split: str
) -> tuple[Any, list[Path], str, Path]:
    """``(dataset, files to fingerprint, origin for messages, base folder for relative image paths)``."""
    import datasets

    data_files = args.get("data_files")
    if data_files:
        data_files = {split: str(data_files).replace("{split}", split)}
    cache_dir = str(args["cache_dir"]) if args.get("cache_dir") else None
    if data_root is None:
        hub_id = args.get("hub_id")
        if not hub_id:
            raise SpotfakeError(f"task {spec.name} needs --data-root ({LAYOUT}) or a hub_id task argument")
        files_arg = data_files or {split: f"data_json/{split}.json"}
        try:
            ds = datasets.load_dataset(
                str(hub_id),
                split=split,
                data_files=files_arg,
                revision=args.get("revision"),
                cache_dir=cache_dir,
            )
        except Exception as exc:  # network, auth or format problems all end the same way for the user
            raise SpotfakeError(
                f"cannot load {hub_id!r} split {split!r} from the Hugging Face Hub ({_first_line(exc)}); "
                "download it and pass --data-root"
            ) from None
        return ds, [Path(f["filename"]) for f in ds.cache_files], str(hub_id), Path.cwd()
    root = require_data_root(spec, data_root, LAYOUT)
    try:
        if (root / "dataset_dict.json").is_file():
            loaded = datasets.load_from_disk(str(root))
            if split not in loaded:
                raise SpotfakeError(
                    f"{root}: no split {split!r} (splits: {', '.join(loaded)}); set the split task argument"
                )
            ds = loaded[split]
        elif (root / "state.json").is_file() and (root / "dataset_info.json").is_file():
            ds = datasets.load_from_disk(str(root))
        else:
            ds = datasets.load_dataset(str(root), split=split, data_files=data_files, cache_dir=cache_dir)
            return ds, _data_files(root), str(root), root
    except SpotfakeError:
        raise
    except Exception as exc:
        raise SpotfakeError(f"cannot load a Hugging Face dataset from {root}: {_first_line(exc)}") from None
    return ds, sorted(Path(f["filename"]) for f in ds.cache_files), str(root), root


def _data_files(root: Path) -> list[Path]:
    """The data (not image) files of a local dataset folder, which define its samples."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and ".cache" not in p.parts
    )


def _default_image_dir(base: Path, split: str) -> Path:
    """Path strings are looked up under ``<base>/<split>`` (FakeClue's layout) when it exists, else ``<base>``."""
    candidate = base / split
    return candidate if candidate.is_dir() else base


def _embedded_image(
    value: Any, image_dir: Path, root: Path, cache: Path, origin: str, where: str
) -> tuple[Path, str | None]:
    """Where an ``Image`` feature's picture is: bytes go to the cache, a bare path must stay in the root."""
    if not isinstance(value, dict):
        raise SpotfakeError(f"{origin} {where}: empty image")
    data, name = value.get("bytes"), value.get("path")
    if data:
        digest = hashlib.sha256(data).hexdigest()
        suffix = posixpath.splitext(name or "")[1].lower()
        path = cache / digest[:2] / (digest + (suffix if suffix in IMAGE_SUFFIXES else ".img"))
        if not path.is_file():
            atomic_write_bytes(path, data)
        return path, name
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
    names = [r["name"] for r in rows]
    if all(names) and len(set(names)) == len(names):
        return [str(n) for n in names]
    return [f"{split}/{index}" for index in range(len(rows))]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
