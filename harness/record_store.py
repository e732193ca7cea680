"""Where a run's records live while it runs: per-rank append-only JSONL files, resumable and mergeable."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from harness.results import SAMPLES_FILE
from harness.types import Record

UNSCORED_FILE = "samples.unscored.jsonl"
"""Records of this run key outside the scored samples (e.g. beyond a later ``--limit``), kept for reuse."""


def rank_file(folder: Path, rank: int, world_size: int) -> Path:
    """The file a rank appends to: ``samples.jsonl`` alone, ``samples.rank<R>.jsonl`` in a parallel run."""
    return folder / (SAMPLES_FILE if world_size == 1 else f"samples.rank{rank}.jsonl")


def record_files(folder: Path) -> list[Path]:
    """Every records file of a run folder: the merged one and any per-rank ones (from any world size)."""
    files = [folder / SAMPLES_FILE] if (folder / SAMPLES_FILE).exists() else []
    extra = folder / UNSCORED_FILE
    return files + sorted(folder.glob("samples.rank*.jsonl")) + ([extra] if extra.exists() else [])


def read_tolerant(path: Path) -> list[Record]:
    """Read records, dropping a torn last line (a killed run) and truncating the file back to whole lines."""
    records: list[Record] = []
    good_bytes = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            if isinstance(obj, dict) and "id" in obj:
                records.append(Record.from_json(obj))
            good_bytes += len(raw)
    if good_bytes != path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return records


def load_existing(folder: Path, key: str) -> tuple[dict[str, Record], list[Record]]:
    """Records already written under run key ``key`` (by id), and records written under other keys."""
    same: dict[str, Record] = {}
    other: list[Record] = []
    for path in record_files(folder):
        for rec in read_tolerant(path):
            if rec.run_key == key:
                same[rec.id] = rec
            else:
                other.append(rec)
    return same, other


class RecordWriter:
    """Appends records to a JSONL file, one flushed write per batch.

    A flush hands each batch to the operating system, so a killed run loses nothing it had written; the
    file is synced to disk once, on close.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def append(self, records: Iterable[Record]) -> None:
        lines = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
        if lines:
            self._handle.write(lines)
            self._handle.flush()

    def close(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
