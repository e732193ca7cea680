"""Helpers every reader shares: safe path joining, JSON with file-and-position errors, task arguments.

Readers never open images: they only build absolute paths, and the runner loads them lazily (a missing
or corrupt image becomes that sample's error record). What readers do refuse, with a one-line
:class:`~harness.errors.SpotfakeError`, is bad annotation input: a missing file, an undecodable or
malformed file, a record without the fields its format needs, or an image path that leaves the data root.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import cache_root as cache_root  # where readers keep listings and unpacked images
from spotfake.harness.jsonio import MAX_FILE_BYTES, loads_strict, open_regular
from spotfake.harness.task import TaskSpec

IMAGE_TOKEN = re.compile(r"<image>")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def require_data_root(spec: TaskSpec, data_root: Path | None, layout: str) -> Path:
    """The data root as an absolute path; a missing one is an error that says what the task expects."""
    if data_root is None:
        raise SpotfakeError(f"task {spec.name} needs --data-root: {layout}")
    root = Path(data_root).expanduser().absolute()
    try:
        found = root.is_dir()
    except OSError as exc:  # a name longer than the file system holds, a loop of links
        raise SpotfakeError(f"task {spec.name}: data root {root}: {exc.strerror or exc}") from None
    if not found:
        raise SpotfakeError(f"task {spec.name}: data root not found: {root} (expected {layout})")
    return root


def check_args(spec: TaskSpec, args: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse task arguments the reader does not know (a typo would otherwise be silently ignored)."""
    known = set(known)
    unknown = sorted(set(args) - known)
    if unknown:
        raise SpotfakeError(
            f"task {spec.name}: unknown task argument(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def choice_arg(spec: TaskSpec, key: str, value: Any, allowed: Sequence[str]) -> str:
    """A task argument that must be one of ``allowed``; anything else is a one-line error naming them."""
    text = str(value)
    if text not in allowed:
        raise SpotfakeError(f"task {spec.name}: {key} must be one of {', '.join(allowed)}, got {text!r}")
    return text


def arg_path(root: Path, value: Any, split: str | None = None) -> Path:
    """A path given as a task argument: ``{split}`` is filled in; relative paths are under ``root``.

    Task arguments come from the user's own command line or task file, so an absolute path is allowed
    here (unlike image paths read from annotation files, see :func:`safe_join`).
    """
    text = path_text(str(value), "task argument")
    if split is not None:
        text = text.replace("{split}", split)
    path = Path(text).expanduser()
    return path if path.is_absolute() else root / path


MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
"""What Linux, macOS and Windows file systems hold: longer names fail every call with ENAMETOOLONG."""


def path_text(text: str, what: str) -> str:
    """``text`` if it can name a file, else one line: a NUL, a part over 255 bytes or a whole over 4,096
    bytes (which the operating system refuses in every call) are refused before any file call."""
    shown = repr(text[:60]) + ("..." if len(text) > 60 else "")
    if "\x00" in text:
        raise SpotfakeError(f"{what} {shown} holds a NUL character; refused")
    encoded = text.encode("utf-8", "surrogateescape")
    longest = max((len(part) for part in re.split(rb"[/\\]", encoded)), default=0)
    if longest > MAX_NAME_BYTES or len(encoded) > MAX_PATH_BYTES:
        raise SpotfakeError(
            f"{what} {shown} is too long for a path ({len(encoded):,} bytes; at most {MAX_NAME_BYTES} per "
            f"name and {MAX_PATH_BYTES:,} in all)"
        )
    return text


def safe_join(base: Path, rel: Any, *, source: Path | str, where: str) -> Path:
    """``base / rel`` for a path read from an annotation file, refusing anything that leaves ``base``.

    ``rel`` must be a relative path (POSIX or Windows separators) that can name a file (:func:`path_text`)
    and whose ``..`` parts never climb above ``base``; the check is lexical, so a symlink the user placed inside the data root is followed as is.
    ``where`` names the record for the error message.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise SpotfakeError(f"{source} {where}: image path must be a non-empty string, got {rel!r}")
    path_text(rel, f"{source} {where}: image path")  # no NUL, no name the file system cannot hold
    text = rel.strip().replace("\\", "/")
    if PurePosixPath(text).is_absolute() or PureWindowsPath(rel).is_absolute() or PureWindowsPath(rel).drive:
        raise SpotfakeError(
            f"{source} {where}: absolute image path {rel!r} refused; paths must be relative to {base}"
        )
    normal = posixpath.normpath(text)
    if normal == ".." or normal.startswith("../"):
        raise SpotfakeError(f"{source} {where}: image path {rel!r} escapes the data root {base}; refused")
    return base / normal


def decode_text(data: bytes, path: Path) -> str:
    """Decode a text file: a BOM picks UTF-8/16/32; without one, UTF-16 is recognised by its NUL bytes
    (as RFC 8259 describes for JSON) and anything else must be UTF-8."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding = name
            break
    else:
        if len(data) >= 2 and data[0] == 0 and data[1] != 0:
            encoding = "utf-16-be"
        elif len(data) >= 2 and data[0] != 0 and data[1] == 0:
            encoding = "utf-16-le"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SpotfakeError(
            f"{path}: cannot decode as {encoding} ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8 (or UTF-16 with a byte-order mark)"
        ) from None


def read_json_file(path: Path, *, what: str) -> Any:
    """Read an annotation JSON file under the engine's strict rules (:mod:`harness.jsonio`).

    Missing, undecodable or malformed files are one-line errors, and so are duplicate keys, nesting
    deeper than ``MAX_DEPTH``, integers longer than ``MAX_INT_DIGITS`` digits, files over
    ``MAX_FILE_BYTES``, folders and FIFOs. ``what`` describes the file for the not-found message (e.g.
    "LOKI's true_or_false.json"). Encodings as :func:`decode_text` (UTF-16 without a BOM included).
    """
    if not path.exists() and not path.is_symlink():
        raise SpotfakeError(f"annotation file not found: {path} (expected {what}); is --data-root right?")
    if path.is_dir():
        raise SpotfakeError(f"{path} is a folder; expected {what} (a JSON file)")
    with open_regular(path, what="annotation file") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpotfakeError(f"{path} is over the size limit of {MAX_FILE_BYTES:,} bytes for {what}")
    return loads_strict(decode_text(data, path), where=str(path))


def read_csv_rows(path: Path, columns: Sequence[str], *, not_found: str) -> list[dict[str, str]]:
    """The rows of a CSV file (header first) as dicts; the header must name every one of ``columns``.

    A missing file is the one line ``not_found``; a header without a column names the file and the
    columns it has; a malformed CSV names the file and line. Encodings as :func:`decode_text`.
    """
    if not path.is_file():
        raise SpotfakeError(not_found)
    reader = csv.DictReader(io.StringIO(decode_text(path.read_bytes(), path)))
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's limit
        raise SpotfakeError(f"{path} line {reader.reader.line_num}: {exc}") from None
    header = list(rows[0]) if rows else []
    missing = [c for c in columns if c not in header]
    if missing:
        raise SpotfakeError(
            f"{path}: no column {', '.join(missing)} (columns: {', '.join(header) or 'none'})"
        )
    return rows


def relative_id(rel: str) -> str:
    """An image path from an annotation file as a sample id: slashes for backslashes, ``./`` and
    ``a/../`` folded, so ``./retina/x.png`` and ``retina/x.png`` are one id (call after :func:`safe_join`
    has accepted the path)."""
    return posixpath.normpath(rel.strip().replace("\\", "/"))


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key for file names with numbers compared as numbers (``9.png`` before ``10.png``)."""
    return tuple((1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", name))


def strip_image_tokens(text: str) -> str:
    """Remove ``<image>`` placeholders (adapters place image tokens their own way) and outer whitespace."""
    return IMAGE_TOKEN.sub("", text).strip()


def require_list(data: Any, path: Path, what: str) -> list[Any]:
    """The top level of an annotation file must be a JSON list."""
    if not isinstance(data, list):
        raise SpotfakeError(f"{path}: expected a JSON list of {what}, got {type(data).__name__}")
    return data


def require_dict(data: Any, path: Path, what: str) -> dict[str, Any]:
    """The top level (or a record) must be a JSON object."""
    if not isinstance(data, dict):
        raise SpotfakeError(f"{path}: expected a JSON object ({what}), got {type(data).__name__}")
    return data


def get_field(record: Any, key: str, kind: type | tuple[type, ...], *, source: Path | str, where: str) -> Any:
    """``record[key]``, which must exist and have type ``kind``; otherwise an error naming the record."""
    if not isinstance(record, dict):
        raise SpotfakeError(f"{source} {where}: expected a JSON object, got {type(record).__name__}")
    if key not in record:
        raise SpotfakeError(f"{source} {where}: missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
        names = "/".join(t.__name__ for t in _as_tuple(kind))
        raise SpotfakeError(f"{source} {where}: field {key!r} must be {names}, got {value!r}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
