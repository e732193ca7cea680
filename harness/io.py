"""Small I/O helpers: atomic writes, the cache folder, and JSON / JSONL reading through the strict reader."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import iter_json_lines, read_json_strict

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def cache_root(override: object = None) -> Path:
    """spotfake's cache folder: ``override`` when given, else ``$SPOTFAKE_CACHE``, else
    ``$XDG_CACHE_HOME/spotfake`` (``~/.cache/spotfake``). The one rule for every cache (listings,
    unpacked images, embeddings, features)."""
    if override:
        return Path(str(override)).expanduser().absolute()
    if os.environ.get("SPOTFAKE_CACHE"):
        return Path(os.environ["SPOTFAKE_CACHE"]).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "spotfake"


def atomic_write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON (NaN is refused: it is not JSON)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def read_json(path: Path, *, what: str = "file") -> Any:
    """Read a JSON file strictly (:func:`harness.jsonio.read_json_strict`); errors name the file."""
    return read_json_strict(path, what=what)


def iter_jsonl(path: Path, *, what: str = "file") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-empty line, strictly; a bad line names file and line.

    A truncated last line (a run killed mid-write) is a malformed line like any other, except in
    :func:`harness.record_store.read_tolerant`, which the runner uses to resume.
    """
    for number, obj in iter_json_lines(path, what=what):
        if not isinstance(obj, dict):
            raise SpotfakeError(
                f"{what} {path} line {number}: expected a JSON object, got {type(obj).__name__}"
            )
        yield number, obj
