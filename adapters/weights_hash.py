"""A cheap identity hash of model weights: file names, sizes and the first and last MiB of each file.

Reading a 14 GB checkpoint in full for every run would take minutes; names, sizes and both ends of each
file change whenever the weights do in practice (a fine-tune rewrites every tensor, a shard change moves
sizes), and cost a few milliseconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

WEIGHT_SUFFIXES: tuple[str, ...] = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".gguf",
    ".h5",
    ".msgpack",
    ".npz",
)
"""File endings treated as weights (config and tokenizer files are covered by the settings instead)."""

CHUNK = 1 << 20


def weight_files(root: Path) -> list[Path]:
    """Weight files in a folder (recursively, skipping hidden folders), or the file itself; sorted."""
    if root.is_file():
        return [root]
    files = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.name.endswith(WEIGHT_SUFFIXES):
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def hash_weights(path: str | Path, *, chunk: int = CHUNK) -> str | None:
    """16 hex digits identifying the weights under ``path`` (a folder or one file), or None when there are
    no weight files. Names are taken relative to ``path`` so that moving the folder keeps the hash."""
    root = Path(path).expanduser()
    if not root.exists():
        return None
    files = weight_files(root)
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        name = file.name if root.is_file() else file.relative_to(root).as_posix()
        size = file.stat().st_size
        digest.update(f"{name}\0{size}\0".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(chunk))
            if size > chunk:
                handle.seek(max(chunk, size - chunk))
                digest.update(handle.read(chunk))
    return digest.hexdigest()[:16]


def local_snapshot(path_or_id: str) -> Path | None:
    """The local folder holding ``path_or_id``: the path itself, or a hub id's cached snapshot (never
    downloads); None when neither exists."""
    local = Path(path_or_id).expanduser()
    if local.exists():
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(path_or_id, local_files_only=True))
    except Exception:  # not a valid id, or not in the cache
        return None


def weights_hash_for(path_or_id: str) -> str | None:
    """:func:`hash_weights` of a local folder or of a hub id's cached snapshot; None when not found."""
    folder = local_snapshot(path_or_id)
    return hash_weights(folder) if folder is not None else None
