"""One cache folder rule for every cache, and the cache writes under the same lock as run folders."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from spotfake.harness.io import cache_root
from spotfake.harness.locking import FolderLock
from spotfake.harness.metrics.embedding_cache import EmbeddingCache, default_cache_dir


def test_every_cache_honours_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spotfake.adapters.experts.train_cli import default_cache_dir as features_dir
    from spotfake.tasks.readers.common import cache_root as readers_root

    monkeypatch.delenv("SPOTFAKE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "xdg" / "spotfake"
    assert cache_root() == root and readers_root() == root
    assert default_cache_dir() == root / "embeddings" and features_dir() == root / "features"
    monkeypatch.setenv("SPOTFAKE_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine" / "embeddings"
    assert readers_root(tmp_path / "arg") == tmp_path / "arg"


def test_a_locked_embedding_cache_waits_then_writes(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "embedder@abc")
    held = threading.Event()

    def writer_elsewhere() -> None:
        with FolderLock(cache.directory, what="embedding cache"):
            held.set()
            time.sleep(0.5)

    other = threading.Thread(target=writer_elsewhere)
    other.start()
    held.wait(10)
    started = time.perf_counter()
    cache.put_many({"a" * 64: np.ones(3, dtype=np.float32)})
    assert time.perf_counter() - started >= 0.3  # it waited for the other writer
    other.join()
    again = EmbeddingCache(tmp_path, "embedder@abc")
    assert list(again.get_many(["a" * 64])) == ["a" * 64]
