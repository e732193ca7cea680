"""Where a run's records live: per-rank append-only JSONL files, resumable, mergeable and kept per run key.

Reading is tolerant where a crash can leave damage and strict everywhere else:

- a torn last line (a run killed mid-write) is dropped and the file truncated back to whole lines;
- a malformed line anywhere else (bad JSON, an over-long line, a NaN) is *quarantined*: copied to
  ``<file>.line<N>.bad``, reported, and removed from the file; the valid records around it are kept;
- well-formed JSON with wrong-typed fields is a one-line error naming the file and line (someone edited it).

Records of other run keys (other model settings or data) are kept in ``samples.previous-<key>.jsonl``, one
file per key, and read back when a run with that key comes again.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_text
from spotfake.harness.jsonio import MAX_LINE_BYTES, loads_strict, open_regular
from spotfake.harness.record_json import record_from_json
from spotfake.harness.redaction import clean_text
from spotfake.harness.results import SAMPLES_FILE
from spotfake.harness.types import Record

log = logging.getLogger("spotfake")

UNSCORED_FILE = "samples.unscored.jsonl"
"""Records of this run key outside the scored samples (e.g. beyond a later ``--limit``), kept for reuse."""
PREVIOUS_PREFIX = "samples.previous-"
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def rank_file(folder: Path, rank: int, world_size: int) -> Path:
    """The file a rank appends to: ``samples.jsonl`` alone, ``samples.rank<R>.jsonl`` in a parallel run."""
    return folder / (SAMPLES_FILE if world_size == 1 else f"samples.rank{rank}.jsonl")


def record_files(folder: Path) -> list[Path]:
    """Every records file of the current run of a folder: the merged one, per-rank ones, the unscored one."""
    files = [folder / SAMPLES_FILE] if (folder / SAMPLES_FILE).exists() else []
    extra = folder / UNSCORED_FILE
    return files + sorted(folder.glob("samples.rank*.jsonl")) + ([extra] if extra.exists() else [])


def previous_file(folder: Path, key: str) -> Path:
    """Where records of run key ``key`` are kept while another key owns the folder."""
    safe = key if _KEY.match(key) else "unknown"
    return folder / f"{PREVIOUS_PREFIX}{safe}.jsonl"


def previous_files(folder: Path) -> list[Path]:
    """The kept records files of earlier run keys."""
    return sorted(folder.glob(f"{PREVIOUS_PREFIX}*.jsonl"))


def is_answered(record: Record) -> bool:
    """True when the model said something (text, score or an error); False for a *missing* placeholder."""
    return record.response is not None or record.score is not None or record.error is not None


def counts_as_done(record: Record, *, retry_errors: bool) -> bool:
    """Whether a resumed run may skip this sample: answered, and not an error when errors are retried."""
    return is_answered(record) and not (retry_errors and record.error is not None)


def _lines(handle: IO[bytes]) -> Iterable[tuple[int, bytes, bool]]:
    """``(number, raw, whole)``: lines of at most MAX_LINE_BYTES; a longer one is skipped, ``whole=False``."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(MAX_LINE_BYTES)
            yield number, b"", False
            continue
        yield number, raw, True


def _parse(raw: bytes, where: str) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpotfakeError(f"{where}: not UTF-8") from None
    return loads_strict(text.rstrip("\r\n"), where=where)


def read_tolerant(path: Path) -> list[Record]:
    """Read a records file written by :class:`RecordWriter`, repairing what a crash or an edit left.

    A torn last line is dropped (the file is truncated to whole lines); a malformed line elsewhere is
    quarantined (see the module's docstring); wrong-typed fields raise SpotfakeError naming file and line.
    """
    records: list[Record] = []
    bad: dict[int, str] = {}
    good_bytes = 0
    torn = False
    with open_regular(path, what="records file") as handle:
        for number, raw, whole in _lines(handle):
            where = f"{path} line {number}"
            if whole and not raw.endswith(b"\n"):
                torn = True  # only the last line can lack its newline
                break
            if not whole:
                bad[number] = f"longer than {MAX_LINE_BYTES:,} bytes"
                continue
            if not raw.strip():
                good_bytes += len(raw)
                continue
            try:
                obj = _parse(raw, where)
            except SpotfakeError as exc:
                bad[number] = str(exc).removeprefix(where + ": ")
                continue
            records.append(record_from_json(obj, where=where))
            good_bytes += len(raw)
    if bad:
        _quarantine(path, bad)
    elif torn:
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return records


def _quarantine(path: Path, bad: dict[int, str]) -> None:
    """Copy each bad line to ``<file>.line<N>.bad`` and rewrite the file with the good whole lines."""
    kept: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number in bad:
                (path.parent / f"{path.name}.line{number}.bad").write_bytes(raw)
            elif raw.endswith(b"\n"):
                kept.append(raw.decode("utf-8"))
    atomic_write_text(path, "".join(kept))
    first = min(bad)
    log.warning(
        "%s: %d malformed line(s) moved aside (line %d: %s -> %s.line%d.bad); the %d other records are kept",
        path,
        len(bad),
        first,
        bad[first],
        path.name,
        first,
        sum(1 for line in kept if line.strip()),
    )


def _prefer(old: Record | None, new: Record) -> bool:
    """Whether ``new`` replaces ``old`` for one id: an answer always beats a placeholder."""
    return old is None or is_answered(new) or not is_answered(old)


def load_existing(folder: Path, key: str) -> tuple[dict[str, Record], list[Record]]:
    """Records already written under run key ``key`` (by id), and records written under other keys.

    Kept files of earlier keys are read too, so going back to earlier settings finds their records.
    """
    same: dict[str, Record] = {}
    other: list[Record] = []
    for path in previous_files(folder) + record_files(folder):
        for rec in read_tolerant(path):
            if rec.run_key == key:
                if _prefer(same.get(rec.id), rec):
                    same[rec.id] = rec
            else:
                other.append(rec)
    return same, other


def keep_previous(folder: Path, key: str, other: list[Record]) -> None:
    """Write records of keys other than ``key`` into one ``samples.previous-<key>.jsonl`` per key and drop
    the kept file of ``key`` itself (its records now live in the current files)."""
    from spotfake.harness.results import write_records

    by_key: dict[str, dict[str, Record]] = {}
    for rec in other:
        group = by_key.setdefault(rec.run_key or "unknown", {})
        if _prefer(group.get(rec.id), rec):
            group[rec.id] = rec
    for old_key, records in by_key.items():
        write_records(previous_file(folder, old_key), list(records.values()))
    previous_file(folder, key).unlink(missing_ok=True)


def _json_line(record: Record) -> str:
    data = record.to_json()
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a NaN or infinity from a model: not JSON
        raise SpotfakeError(f"sample {record.id}: a non-finite number in its record") from None
    return clean_text(text) + "\n"  # lone surrogates cannot be stored as UTF-8: U+FFFD instead


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
        lines = "".join(_json_line(r) for r in records)
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
