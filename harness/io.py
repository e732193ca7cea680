"""Small I/O helpers: atomic writes and JSONL reading with file-and-line errors."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.errors import SpotfakeError

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON (NaN is refused: it is not JSON)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file; a missing or malformed file is a SpotfakeError naming the file and position."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpotfakeError(f"file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise SpotfakeError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpotfakeError(
            f"malformed JSON in {path} line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-empty line; a bad line names the file and line.

    A truncated last line (a run killed mid-write) is a malformed line like any other, except in
    :func:`read_records_tolerant`, which the runner uses to resume.
    """
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise SpotfakeError(f"file not found: {path}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SpotfakeError(f"malformed JSON in {path} line {number}: {exc.msg}") from None
            if not isinstance(obj, dict):
                raise SpotfakeError(f"{path} line {number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj
