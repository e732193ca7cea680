"""The one strict JSON reader for every input file: predictions, records, results, annotations, submissions.

What it refuses, each with one :class:`SpotfakeError` line naming the file (and line) and the fix:

- anything but a regular file (a directory, a FIFO, a device) -- checked on the open descriptor, so a FIFO
  never blocks;
- text that is not UTF-8: a UTF-8 byte-order mark is skipped, UTF-16/UTF-32 with a byte-order mark are
  decoded, anything else (Latin-1, binary) is refused with the byte offset;
- duplicate keys in an object, ``NaN`` / ``Infinity`` and numbers that overflow a float, integers longer
  than :data:`MAX_INT_DIGITS` digits, nesting deeper than :data:`MAX_DEPTH`, lone UTF-16 surrogates
  (``"\\ud800"``: they cannot be written back as UTF-8);
- files over ``max_bytes`` and JSON Lines longer than :data:`MAX_LINE_BYTES` (memory stays bounded by it).
"""

from __future__ import annotations

import codecs
import io
import json
import math
import os
import re
import stat
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

from spotfake.harness.errors import SpotfakeError

MAX_DEPTH = 64
"""Deepest nesting of arrays/objects accepted (results files need 5)."""
MAX_INT_DIGITS = 32
"""Longest integer literal accepted (counts and token usages need far fewer)."""
MAX_LINE_BYTES = 16 * 2**20
"""Longest JSON Lines line accepted (16 MiB: a long explanation is a few KiB)."""
MAX_FILE_BYTES = 512 * 2**20
"""Default size limit of a whole JSON document read by :func:`read_json_strict`."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def describe_json_error(exc: json.JSONDecodeError, where: str) -> str:
    """The one wording of a JSON syntax error: ``<where>: malformed JSON at line L column C: <msg>``.

    The line is left out for a one-line document (a JSON Lines line: ``where`` names it already).
    """
    if "\n" not in exc.doc.strip():
        return f"{where}: malformed JSON at column {exc.colno}: {exc.msg}"
    return f"{where}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def non_regular_kind(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file ("a directory", "a FIFO (named pipe)",
    "a device or socket"); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"


def open_regular(path: Path, *, what: str) -> IO[bytes]:
    """Open ``path`` for binary reading only if it is a regular file (never blocks on a FIFO).

    A missing file, a directory, a FIFO or a device is a one-line error naming ``what`` and the path.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SpotfakeError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise SpotfakeError(f"{what} {path} is a directory, not a file; give the file's path") from None
    except PermissionError:
        raise SpotfakeError(f"{what} {path}: permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise SpotfakeError(f"{what} {path!s:.200}: cannot open ({exc})") from None
    kind = non_regular_kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise SpotfakeError(f"{what} {path} is {kind}; give the path of a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """The encoding of a file starting with ``head`` and the length of its byte-order mark (UTF-8 if none)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return "utf-8", 0


def decode_text(data: bytes, *, where: str) -> str:
    """Bytes to text: a BOM chooses UTF-8/16/32, else strict UTF-8; anything else is a one-line error."""
    encoding, skip = sniff_encoding(data[:4])
    nul = data.find(b"\x00") if encoding == "utf-8" else -1
    if nul >= 0:
        raise SpotfakeError(f"{where}: binary data (a NUL byte at byte {nul}), not JSON text")
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise SpotfakeError(_not_text(data, exc, skip, where)) from None


def _not_text(data: bytes, exc: UnicodeDecodeError, skip: int, where: str) -> str:
    offset = exc.start + skip
    if b"\x00" in data[:4096]:
        guess = "binary data (NUL bytes), or UTF-16 without a byte-order mark"
    elif exc.encoding.startswith("utf-8"):
        guess = "perhaps Latin-1 or another legacy encoding"
    else:
        guess = f"invalid {exc.encoding}"
    return f"{where}: not UTF-8 text ({exc.reason} at byte {offset}: {guess}); save the file as UTF-8"


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {key!r} in one object; keep one")
        out[key] = value
    return out


def _no_constant(token: str) -> object:
    raise _Refused(f"{token} is not a JSON number; write a finite number or null")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {digits} digits is over the limit of {MAX_INT_DIGITS}")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} does not fit a 64-bit float")
    return value


class _Refused(ValueError):
    """A well-formed document that the strict rules refuse (raised from inside the parser's hooks)."""


def _check_shape(value: object, *, strings: bool) -> None:
    """Refuse nesting deeper than MAX_DEPTH and (``strings``) lone surrogates, without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if strings and _SURROGATE.search(item):
                raise _Refused("a lone UTF-16 surrogate (\\ud800-\\udfff) in a string; it is not text")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
        values = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in values)
        if strings and isinstance(item, dict):
            stack.extend((key, depth) for key in item)


def loads_strict(text: str | bytes, *, where: str) -> object:
    """Parse one JSON document under the strict rules above; errors name ``where`` (file and line)."""
    if isinstance(text, bytes):
        text = decode_text(text, where=where)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
        strings = _ESCAPED_SURROGATE.search(text) is not None
        if strings or text.count("[") + text.count("{") > MAX_DEPTH:  # else it cannot be too deep
            _check_shape(value, strings=strings)
    except json.JSONDecodeError as exc:
        raise SpotfakeError(describe_json_error(exc, where)) from None
    except RecursionError:
        raise SpotfakeError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # _Refused, and int() beyond Python's own digit limit
        raise SpotfakeError(f"{where}: refused JSON: {exc}") from None
    return value


def read_bytes_strict(path: Path, *, what: str, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (default MAX_FILE_BYTES), read once."""
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    with open_regular(path, what=what) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise SpotfakeError(f"{what} {path} is over the size limit of {limit:,} bytes")
    return data


def read_json_strict(path: Path, *, what: str, max_bytes: int | None = None) -> object:
    """Read one JSON document from a regular file of at most ``max_bytes`` (default MAX_FILE_BYTES)."""
    data = read_bytes_strict(path, what=what, max_bytes=max_bytes)
    if not data.strip():
        raise SpotfakeError(f"{what} {path} is empty; expected a JSON document")
    return loads_strict(data, where=f"{what} {path}")


def _binary_lines(
    handle: IO[bytes], where: str, max_line_bytes: int
) -> Generator[tuple[int, bytes], None, None]:
    """UTF-8 lines as bytes, each read with a bounded buffer (a huge line is refused, not loaded)."""
    number = 0
    while True:
        raw = handle.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not (len(raw) == max_line_bytes + 1 and raw.endswith(b"\n")):
            raise SpotfakeError(
                f"{where} line {number}: longer than the limit of {max_line_bytes:,} bytes per line"
            )
        if b"\x00" in raw:
            raise SpotfakeError(
                f"{where} line {number}: binary data (a NUL byte), not JSON text; save it as UTF-8 JSON Lines"
            )
        yield number, raw


def _text_lines(
    handle: IO[bytes], encoding: str, where: str, max_line_bytes: int
) -> Generator[tuple[int, bytes], None, None]:
    """Lines of a UTF-16/32 file re-encoded as UTF-8, with the same bounded buffer."""
    text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline=None)
    number = 0
    try:
        while True:
            line = text.readline(max_line_bytes + 1)
            if not line:
                return
            number += 1
            if len(line) > max_line_bytes:
                raise SpotfakeError(
                    f"{where} line {number}: longer than the limit of {max_line_bytes:,} characters per line"
                )
            yield number, line.encode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise SpotfakeError(
            f"{where} line {number + 1}: not valid {encoding} text ({exc.reason}); save the file as UTF-8"
        ) from None
    finally:
        text.detach()


def iter_json_lines(
    path: Path, *, what: str, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, object]]:
    """Yield ``(line_number, value)`` for each non-blank line of a JSON Lines file, strictly.

    Every problem is a one-line error naming ``what``, the file and the line; blank lines are skipped.
    """
    where = f"{what} {path}"
    with open_regular(path, what=what) as handle:
        head = handle.read(4)
        encoding, skip = sniff_encoding(head)
        handle.seek(skip)
        if encoding == "utf-8":
            lines = _binary_lines(handle, where, max_line_bytes)
        else:
            lines = _text_lines(handle, encoding, where, max_line_bytes)
        try:
            for number, raw in lines:
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise SpotfakeError(_not_text(raw, exc, 0, f"{where} line {number}")) from None
                yield number, loads_strict(text.rstrip("\r\n"), where=f"{where} line {number}")
        finally:
            lines.close()  # before the file closes: a UTF-16 reader detaches from it
