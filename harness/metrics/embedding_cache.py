"""On-disk cache of sentence embeddings, keyed by (embedder id, sha256 of the text).

Layout: ``<cache_dir>/<embedder slug>/<shard>.npz``; each shard holds ``keys`` (sha256 hex digests,
a fixed-width unicode array) and ``vectors`` (float32, one row per key). Shards are written to a
temporary file and renamed into place, so a reader never sees half a shard; they are read with
``allow_pickle=False``, so a cache file can never run code. A shard that cannot be read, or whose arrays
have the wrong shape or type, is ignored (and removed): its texts are embedded again and stored anew.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from spotfake.harness.metrics.types import FloatArray

MAX_SHARDS = 32
"""When a folder holds more shards than this, they are merged into one."""


def default_cache_dir() -> Path:
    """``embeddings/`` in spotfake's cache folder (:func:`harness.io.cache_root`: ``$SPOTFAKE_CACHE``,
    else ``$XDG_CACHE_HOME/spotfake``, else ``~/.cache/spotfake``)."""
    from spotfake.harness.io import cache_root

    return cache_root() / "embeddings"


def text_key(text: str) -> str:
    """sha256 hex digest of the UTF-8 text: the cache key of one text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _slug(embedder_id: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_id).strip("._")[:80]
    digest = hashlib.sha256(embedder_id.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}"


class EmbeddingCache:
    """Embeddings of one embedder, in memory and on disk (see the module docstring for the format)."""

    def __init__(self, cache_dir: Path, embedder_id: str) -> None:
        self.directory = Path(cache_dir) / _slug(embedder_id)
        self.embedder_id = embedder_id
        self._vectors: dict[str, FloatArray] = {}
        self._loaded = False
        self.dim: int | None = None

    def get_many(self, keys: Iterable[str]) -> dict[str, FloatArray]:
        """The cached vectors among ``keys`` (keys not cached are absent from the result)."""
        self._load()
        return {key: self._vectors[key] for key in keys if key in self._vectors}

    def put_many(self, vectors: Mapping[str, FloatArray]) -> None:
        """Store new vectors in memory and as one new shard on disk (written atomically)."""
        self._load()
        fresh = {k: v for k, v in vectors.items() if k not in self._vectors}
        if not fresh:
            return
        matrix = np.stack([np.asarray(v, dtype=np.float32) for v in fresh.values()])
        self._vectors.update(zip(fresh, matrix, strict=True))
        self.dim = matrix.shape[1]
        keys = np.array(sorted(fresh), dtype="<U64")
        order = {k: i for i, k in enumerate(fresh)}
        matrix = matrix[[order[k] for k in keys.tolist()]]
        name = hashlib.sha256("".join(keys.tolist()).encode()).hexdigest()[:24]
        from spotfake.harness.errors import SpotfakeError
        from spotfake.harness.locking import FolderLock

        try:
            with FolderLock(self.directory, what="embedding cache", wait_s=60):
                self._write_shard(self.directory / f"{name}.npz", keys, matrix)
                self._compact()
        except SpotfakeError as exc:  # a cache that cannot be locked is a cache not written
            warnings.warn(f"embedding cache not written: {exc}", RuntimeWarning, stacklevel=2)

    def _write_shard(self, path: Path, keys: np.ndarray, matrix: FloatArray) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".npz")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, keys=keys, vectors=matrix)
                os.replace(tmp_name, path)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            warnings.warn(f"embedding cache not written ({path}): {exc}", RuntimeWarning, stacklevel=3)

    def _shards(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("[!.]*.npz"))

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for path in self._shards():
            shard = _read_shard(path, self.dim)
            if shard is None:
                path.unlink(missing_ok=True)
                continue
            keys, matrix = shard
            self.dim = matrix.shape[1]
            self._vectors.update(zip(keys, matrix, strict=True))

    def _compact(self) -> None:
        shards = self._shards()
        if len(shards) <= MAX_SHARDS:
            return
        keys = np.array(sorted(self._vectors), dtype="<U64")
        matrix = np.stack([self._vectors[k] for k in keys.tolist()])
        name = hashlib.sha256("".join(keys.tolist()).encode()).hexdigest()[:24]
        merged = self.directory / f"{name}.npz"
        self._write_shard(merged, keys, matrix)
        if merged.exists():
            for path in shards:
                if path != merged:
                    path.unlink(missing_ok=True)


def _read_shard(path: Path, dim: int | None) -> tuple[list[str], FloatArray] | None:
    """The keys and vectors of one shard, or None when it is unreadable or malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = data["keys"]
            matrix = data["vectors"]
    except Exception:  # any unreadable file is simply not a cache entry
        return None
    if keys.ndim != 1 or keys.dtype.kind != "U" or matrix.ndim != 2 or matrix.dtype != np.float32:
        return None
    if len(keys) != matrix.shape[0] or (dim is not None and matrix.shape[1] != dim):
        return None
    if not np.isfinite(matrix).all():
        return None
    key_list = [str(k) for k in keys.tolist()]
    if not all(re.fullmatch(r"[0-9a-f]{64}", k) for k in key_list):
        return None
    return key_list, matrix
