"""The on-disk embedding cache: round trip, atomic shards, corrupt or hostile files ignored, never unpickled."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from spotfake.harness.metrics import embedding_cache
from spotfake.harness.metrics.embedding_cache import EmbeddingCache, default_cache_dir, text_key


def vectors(texts: list[str], dim: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(len(texts))
    return {text_key(t): rng.standard_normal(dim).astype(np.float32) for t in texts}


def test_round_trip_between_instances(tmp_path: Path) -> None:
    stored = vectors(["a fake image", "a real photo", "six fingers"])
    EmbeddingCache(tmp_path, "emb@1").put_many(stored)
    fresh = EmbeddingCache(tmp_path, "emb@1")
    got = fresh.get_many([*stored, text_key("never stored")])
    assert set(got) == set(stored)
    for key, vec in stored.items():
        assert np.array_equal(got[key], vec) and got[key].dtype == np.float32
    # another embedder (other weights) sees nothing
    assert EmbeddingCache(tmp_path, "emb@2").get_many(stored) == {}
    # no temporary files are left behind
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_keys_are_sha256_of_the_text() -> None:
    assert text_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def only_shard(tmp_path: Path) -> Path:
    [shard] = list(tmp_path.rglob("*.npz"))
    return shard


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a zip file at all"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(b""),
        lambda p: np.savez(p.open("wb"), keys=np.array(["zz"]), vectors=np.zeros((1, 8), np.float32)),
        lambda p: np.savez(
            p.open("wb"), keys=np.array([text_key("x")]), vectors=np.zeros((2, 8), np.float32)
        ),
        lambda p: np.savez(
            p.open("wb"), keys=np.array([text_key("x")]), vectors=np.zeros((1, 8), np.float64)
        ),
        lambda p: np.savez(p.open("wb"), something_else=np.zeros(3)),
    ],
    ids=["garbage", "truncated", "empty", "bad-key", "shape", "dtype", "other-arrays"],
)
def test_a_damaged_shard_is_ignored_and_rebuilt(tmp_path: Path, damage: object) -> None:
    stored = vectors(["a fake image"])
    EmbeddingCache(tmp_path, "emb@1").put_many(stored)
    shard = only_shard(tmp_path)
    damage(shard)  # type: ignore[operator]
    cache = EmbeddingCache(tmp_path, "emb@1")
    assert cache.get_many(stored) == {}
    assert not shard.exists()  # removed, so it is not read again
    cache.put_many(stored)
    assert set(EmbeddingCache(tmp_path, "emb@1").get_many(stored)) == set(stored)


class _Trap:
    """Unpickling this creates a file: proof that a cache file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))  # type: ignore[return-value]


def test_a_pickle_in_the_cache_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    stored = vectors(["a fake image"])
    EmbeddingCache(tmp_path / "c", "emb@1").put_many(stored)
    shard = only_shard(tmp_path / "c")
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(marker)
    np.savez(shard.open("wb"), keys=trap, vectors=np.zeros((1, 8), np.float32))
    other = shard.with_name("0" * 24 + ".npz")
    other.write_bytes(pickle.dumps(_Trap(marker)))
    assert EmbeddingCache(tmp_path / "c", "emb@1").get_many(stored) == {}
    assert not marker.exists()


def test_many_shards_are_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding_cache, "MAX_SHARDS", 3)
    stored: dict[str, np.ndarray] = {}
    cache = EmbeddingCache(tmp_path, "emb@1")
    for i in range(6):
        batch = vectors([f"text {i}"])
        cache.put_many(batch)
        stored.update(batch)
    assert len(list(tmp_path.rglob("*.npz"))) <= 3
    got = EmbeddingCache(tmp_path, "emb@1").get_many(stored)
    assert set(got) == set(stored)


def test_unwritable_cache_warns_and_still_works(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    cache = EmbeddingCache(blocker, "emb@1")
    stored = vectors(["a fake image"])
    with pytest.warns(RuntimeWarning, match="not written"):
        cache.put_many(stored)
    assert set(cache.get_many(stored)) == set(stored)  # still served from memory


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPOTFAKE_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "embeddings"
    monkeypatch.delenv("SPOTFAKE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "spotfake" / "embeddings"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "spotfake" / "embeddings"


def test_the_tests_keep_the_shipped_embedders_vectors_across_sessions_apart_from_the_users(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The tests' isolation (conftest) links the shipped MiniLM's cache folder to the repository's
    git-ignored ``.cache/``, so a later session reads back what this one embedded; every other embedder's
    folder, and the cache root itself, stay in the session's tmp folder, never the user's cache."""
    from conftest import KEPT_EMBEDDINGS

    from spotfake.harness.metrics.css import CssScorer

    session = tmp_path_factory.getbasetemp().resolve()
    assert default_cache_dir().resolve().is_relative_to(session)
    minilm = CssScorer().cache.directory
    assert minilm.is_relative_to(default_cache_dir()) and minilm.is_symlink()
    assert minilm.resolve() == (KEPT_EMBEDDINGS / minilm.name).resolve()
    assert not minilm.resolve().is_relative_to(Path.home() / ".cache")
    other = EmbeddingCache(default_cache_dir(), "tiny-embedder@1").directory
    assert other.resolve().is_relative_to(session) and not other.is_symlink()
