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


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def output_file(path: str | Path, option: str) -> Path:
    """A file the user named for output (``--output``, ``--json``), checked before any work is done: it is
    not a folder and its folder exists; one line naming the option otherwise."""
    out = Path(path)
    try:
        if out.is_dir():
            raise SpotfakeError(f"{option} {out}: is a folder; give a file name")
        if not out.parent.is_dir():
            raise SpotfakeError(f"{option} {out}: folder {out.parent} does not exist; create it first")
    except OSError as exc:
        raise SpotfakeError(f"{option} {out}: {_reason(exc)}") from None
    return out


def write_output(path: Path, text: str, option: str) -> None:
    """Write ``text`` (UTF-8) to a file the user named (written in place, so ``/dev/stdout`` works too); an
    OS error is one line naming the option."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpotfakeError(f"{option} {path}: cannot write it ({_reason(exc)})") from None


def output_folder(path: str | Path, option: str) -> Path:
    """A folder the user named for output (``--figures``), created with its parents; one line when it is a
    file or cannot be created."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SpotfakeError(f"{option} {out}: is a file, not a folder") from None
    except OSError as exc:
        raise SpotfakeError(f"{option} {out}: cannot create the folder ({_reason(exc)})") from None
    return out


MAX_YAML_BYTES = 1 << 20
"""Task and suite definitions are a few hundred lines; a YAML file over 1 MiB is refused unread."""


def read_yaml(path: Path, what: str) -> Any:
    """A small YAML file (``what``: a task or suite definition) read with PyYAML's safe loader: UTF-8 text,
    at most :data:`MAX_YAML_BYTES`. Anything else (unreadable, another encoding, a syntax error, nesting
    too deep for the parser) is one line naming the file, and the line of a syntax error."""
    import yaml

    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise SpotfakeError(f"{what} {path}: over {MAX_YAML_BYTES} bytes; not read")
        return yaml.safe_load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SpotfakeError(f"{what} {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except RecursionError:
        raise SpotfakeError(f"{what} {path}: nested too deeply to read") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpotfakeError(f"malformed YAML in {what} {path}{where}: {problem}") from None
    except OSError as exc:
        raise SpotfakeError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
