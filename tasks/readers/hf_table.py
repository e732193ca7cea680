"""Local Hugging Face tables (parquet/arrow shards, ``save_to_disk`` folders) for tasks published on the Hub.

``--data-root`` is the dataset as downloaded (``huggingface-cli download --repo-type dataset ... --local-dir``)
or saved; it is read through ``datasets`` offline, one split at a time. Images are either an ``Image``
feature or a binary column: embedded bytes are written once, content-addressed, to ``<cache>/images/`` so
the runner can load them lazily like any file; a path string is resolved inside the data root (refused if
it leaves it). Progress bars are silenced while reading.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.io import atomic_write_bytes
from spotfake.harness.task import TaskSpec
from spotfake.tasks.readers.common import cache_root, require_data_root, safe_join

DATA_SUFFIXES = (".arrow", ".parquet", ".json", ".jsonl", ".csv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass
class Table:
    """One split of a local dataset: its rows, its features, and the data files that define it."""

    dataset: Any
    origin: str
    base: Path
    files: list[Path] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.column_names)

    def feature(self, name: str) -> Any:
        return self.dataset.features.get(name)

    def class_names(self, column: str) -> list[str] | None:
        """The names of a ``ClassLabel`` column (index -> name), None for a plain column."""
        import datasets

        feature = self.feature(column)
        return list(feature.names) if isinstance(feature, datasets.ClassLabel) else None

    def require(self, *columns: str) -> None:
        """One line naming the dataset when a column the task reads is absent."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise SpotfakeError(
                f"{self.origin}: no column {', '.join(map(repr, missing))} (columns: {', '.join(self.columns)})"
            )

    def rows(self, image_column: str | None = None) -> Iterator[dict[str, Any]]:
        """The rows in order, with an ``Image`` column left undecoded (``{"bytes", "path"}``)."""
        import datasets

        ds = self.dataset
        if image_column and isinstance(ds.features.get(image_column), datasets.Image):
            ds = ds.cast_column(image_column, datasets.Image(decode=False))
        yield from ds


def load_table(spec: TaskSpec, data_root: Path | None, args: Mapping[str, Any], *, layout: str) -> Table:
    """The ``split`` argument's rows of the local dataset at ``data_root`` (``data_files`` may name the
    shards, ``{split}`` filled in); one line for a missing folder, split or unreadable dataset."""
    datasets = require("datasets", "hf", f"task {spec.name!r} (a Hugging Face dataset)")
    root = require_data_root(spec, data_root, layout)
    split = str(args.get("split", "test"))
    data_files = args.get("data_files")
    files_arg = {split: str(data_files).replace("{split}", split)} if data_files else None
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        if (root / "dataset_dict.json").is_file():
            loaded = datasets.load_from_disk(str(root))
            if split not in loaded:
                raise SpotfakeError(f"{root}: no split {split!r} (splits: {', '.join(loaded)}); set split")
            ds = loaded[split]
        elif (root / "state.json").is_file() and (root / "dataset_info.json").is_file():
            ds = datasets.load_from_disk(str(root))
        else:
            files = sorted(
                p
                for p in root.rglob("*")
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and ".cache" not in p.parts
            )
            if not files:  # an image tree is not a table; datasets would index every image first
                raise SpotfakeError(f"no parquet, arrow, JSON or CSV files below {root} (expected {layout})")
            cache = str(cache_root(args.get("cache_dir")) / "hf-datasets")
            ds = datasets.load_dataset(str(root), split=split, data_files=files_arg, cache_dir=cache)
            return Table(ds, str(root), root, files)
    except SpotfakeError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise SpotfakeError(
            f"cannot read split {split!r} of a Hugging Face dataset at {root} ({type(exc).__name__}: {first}); "
            f"expected {layout}"
        ) from None
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    return Table(ds, str(root), root, sorted(Path(f["filename"]) for f in ds.cache_files))


def image_file(
    value: Any, *, table: Table, cache_dir: Any, where: str, name_hint: str | None = None
) -> tuple[Path, str | None]:
    """``(path, name)`` of a row's image: embedded bytes (an ``Image`` dict or a binary column) cached under
    their SHA-256, or a path inside the data root. ``name_hint`` gives the suffix of bare bytes."""
    data: bytes | None
    if isinstance(value, (bytes, bytearray)):
        data, name = bytes(value), name_hint
    elif isinstance(value, dict):
        data, name = value.get("bytes"), value.get("path") or name_hint
    elif isinstance(value, str) and value.strip():
        return safe_join(table.base, value, source=table.origin, where=where), value
    else:
        raise SpotfakeError(f"{table.origin} {where}: no image (got {type(value).__name__})")
    if data:
        digest = hashlib.sha256(data).hexdigest()
        suffix = posixpath.splitext(name or "")[1].lower()
        path = (
            cache_root(cache_dir)
            / "images"
            / digest[:2]
            / (digest + (suffix if suffix in IMAGE_SUFFIXES else ".img"))
        )
        if not path.is_file():
            atomic_write_bytes(path, data)
        return path, name
    if not name:
        raise SpotfakeError(f"{table.origin} {where}: image has neither bytes nor a path")
    resolved = Path(posixpath.normpath(name))
    if resolved.is_absolute():
        if not resolved.is_relative_to(table.base):
            raise SpotfakeError(
                f"{table.origin} {where}: image path {name!r} is outside the data root; refused"
            )
        return resolved, resolved.relative_to(table.base).as_posix()
    return safe_join(table.base, name, source=table.origin, where=where), name


def unique_ids(candidates: list[str | None], fallback: str) -> list[str]:
    """``candidates`` as sample ids when every row has one and none repeats, else ``<fallback>/<row>``."""
    if all(candidates) and len(set(candidates)) == len(candidates):
        return [str(c) for c in candidates]
    return [f"{fallback}/{index}" for index in range(len(candidates))]
