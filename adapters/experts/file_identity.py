"""The identity of a checkpoint: the sha256 of every weight file, read once and remembered.

An expert's results record the sha256 of each file it loaded (in its settings, so the run key hashes
them): a checkpoint with other bytes never reuses another's records, and a published number can be tied
to the published file. Hashing reads the file in 1 MiB chunks (a few seconds per gigabyte); the digest is
cached under ``<cache>/sha256/`` (:func:`spotfake.harness.io.cache_root`) keyed by the file's resolved
path, size and modification time, so a second run does not read the gigabytes again. One small JSON file
per weight file: concurrent runs never rewrite each other's entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from spotfake.harness.io import atomic_write_json, cache_root

CHUNK = 1 << 20


def sha256_stream(path: Path, chunk: int = CHUNK) -> str:
    """The sha256 of the file at ``path`` (hex), read in chunks of ``chunk`` bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _cache_file(resolved: Path, cache: Path) -> Path:
    name = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
    return cache / "sha256" / f"{name}.json"


def file_sha256(path: str | Path, cache: Path | None = None) -> str:
    """The sha256 of ``path``, from the cache when its path, size and mtime are unchanged, else read."""
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    entry_path = _cache_file(resolved, cache if cache is not None else cache_root())
    stamp = {"path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        if isinstance(entry, dict) and {k: entry.get(k) for k in stamp} == stamp:
            digest = entry.get("sha256")
            if isinstance(digest, str) and len(digest) == 64:
                return digest
    except (OSError, ValueError):
        pass  # no entry yet, or an unreadable one: read the file
    digest = sha256_stream(resolved)
    with contextlib.suppress(OSError):  # a read-only cache only costs the next run a re-read
        atomic_write_json(entry_path, {**stamp, "sha256": digest})
    return digest


def files_sha256(files: Iterable[str | Path], cache: Path | None = None) -> dict[str, str]:
    """``{file name: sha256}`` for ``files`` (names only: results never record a machine's paths); two
    files of one name are told apart by their parent folder's name."""
    out: dict[str, str] = {}
    for file in files:
        path = Path(file)
        key = path.name if path.name not in out else f"{path.parent.name}/{path.name}"
        out[key] = file_sha256(path, cache)
    return out


def combined_hash(digests: dict[str, str]) -> str:
    """16 hex digits over every ``name:sha256`` pair (the model's weights hash)."""
    text = "|".join(f"{name}:{digest}" for name, digest in sorted(digests.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
