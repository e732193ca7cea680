"""Receiving a submission: its two files read from a run folder, a zip or an upload, within size limits.

Nothing is extracted to disk or executed: a zip's members are read into memory, each cut off at its limit
whatever its header declares, and a zip may hold nothing but ``results.json`` and ``samples.jsonl``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE

_IGNORED_IN_ZIP = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$)")


@dataclass(frozen=True)
class Limits:
    """Size limits for a submission, in bytes."""

    results_bytes: int = 5 * 2**20
    samples_bytes: int = 200 * 2**20
    line_bytes: int = 2**20
    archive_bytes: int = 200 * 2**20


@dataclass(frozen=True)
class SubmissionFiles:
    """The two files of a submission as received (bytes), and where they came from (for messages)."""

    results: bytes
    samples: bytes
    origin: str


def too_big(name: str, size: int, limit: int) -> SpotfakeError:
    """The refusal for a file over its limit."""
    return SpotfakeError(f"{name}: {size:,} bytes is over the submission limit of {limit:,} bytes")


def _read_limited(path: Path, limit: int) -> bytes:
    if not path.is_file():
        raise SpotfakeError(f"{path}: not found; a submission folder holds {RESULTS_FILE} and {SAMPLES_FILE}")
    size = path.stat().st_size
    if size > limit:
        raise too_big(str(path), size, limit)
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_big(str(path), len(data), limit)
    return data


def files_from_folder(folder: Path, limits: Limits = Limits()) -> SubmissionFiles:
    """Read ``results.json`` and ``samples.jsonl`` from a run folder, within the size limits."""
    if not folder.is_dir():
        raise SpotfakeError(f"{folder}: not a folder; pass a run folder <dir>/<model>/<task>/")
    return SubmissionFiles(
        results=_read_limited(folder / RESULTS_FILE, limits.results_bytes),
        samples=_read_limited(folder / SAMPLES_FILE, limits.samples_bytes),
        origin=str(folder),
    )


def files_from_zip(data: bytes, name: str = "upload.zip", limits: Limits = Limits()) -> SubmissionFiles:
    """Read the two files from a zip archive (at its top level or in one folder); nothing is extracted to disk."""
    if len(data) > limits.archive_bytes:
        raise too_big(name, len(data), limits.archive_bytes)
    wanted = {RESULTS_FILE: limits.results_bytes, SAMPLES_FILE: limits.samples_bytes}
    found: dict[str, bytes] = {}
    folders: set[str] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.is_dir() or _IGNORED_IN_ZIP.search(info.filename):
                    continue
                folder, _, base = info.filename.rpartition("/")
                if base not in wanted:
                    raise SpotfakeError(
                        f"{name}: unexpected file {info.filename!r}; a submission holds only {RESULTS_FILE} and "
                        f"{SAMPLES_FILE}"
                    )
                if base in found:
                    raise SpotfakeError(f"{name}: more than one {base}; zip a single run folder")
                folders.add(folder)
                limit = wanted[base]
                if info.file_size > limit:
                    raise too_big(f"{name}:{info.filename}", info.file_size, limit)
                with archive.open(info) as member:
                    content = member.read(limit + 1)
                if len(content) > limit:
                    raise too_big(f"{name}:{info.filename}", len(content), limit)
                found[base] = content
    except zipfile.BadZipFile as exc:
        raise SpotfakeError(f"{name}: not a readable zip archive ({exc})") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted members, unknown compression
        raise SpotfakeError(f"{name}: cannot read the archive ({exc}); use a plain zip") from None
    if len(folders) > 1:
        raise SpotfakeError(
            f"{name}: {RESULTS_FILE} and {SAMPLES_FILE} must be in the same folder of the zip"
        )
    for base in wanted:
        if base not in found:
            raise SpotfakeError(f"{name}: no {base} in the archive; zip the run folder <model>/<task>/")
    return SubmissionFiles(results=found[RESULTS_FILE], samples=found[SAMPLES_FILE], origin=name)


def files_from_uploads(uploads: Sequence[tuple[str, bytes]], limits: Limits = Limits()) -> SubmissionFiles:
    """One ``.zip``, or the two files (told apart by their ``.json`` / ``.jsonl`` endings)."""
    if len(uploads) == 1 and uploads[0][0].lower().endswith(".zip"):
        return files_from_zip(uploads[0][1], uploads[0][0], limits)
    results = [(n, d) for n, d in uploads if n.lower().endswith(".json")]
    samples = [(n, d) for n, d in uploads if n.lower().endswith(".jsonl")]
    if len(results) != 1 or len(samples) != 1 or len(uploads) != 2:
        names = ", ".join(n for n, _ in uploads) or "nothing"
        raise SpotfakeError(
            f"upload: got {names}; upload one .zip of a run folder, or {RESULTS_FILE} and {SAMPLES_FILE} together"
        )
    for (upload_name, content), limit in (
        (results[0], limits.results_bytes),
        (samples[0], limits.samples_bytes),
    ):
        if len(content) > limit:
            raise too_big(upload_name, len(content), limit)
    return SubmissionFiles(
        results=results[0][1], samples=samples[0][1], origin=f"{results[0][0]} + {samples[0][0]}"
    )
