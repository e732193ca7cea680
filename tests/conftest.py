"""Shared test settings: offline, quiet, and small thread counts on a 2-core machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures.shared import SharedData, shared_root

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
TOY_TASK = TESTS_DIR / "toy_task.yaml"
KEPT_EMBEDDINGS = REPO_ROOT / ".cache" / "test-embeddings"
"""Embeddings of the shipped all-MiniLM-L6-v2 kept from one test session to the next (git-ignored)."""


def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "cache"


@pytest.fixture(scope="session")
def _kept_minilm_embeddings(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The session's cache folder of the shipped CSS embedder, linked to :data:`KEPT_EMBEDDINGS`, so the
    references a test embeds once (a task's verdict-only floor) are read back by every later session.

    Only that embedder's folder is shared: it is keyed by the embedder id (name and weights hash) and holds
    vectors keyed by the sha256 of each text, so a cached vector is the one the embedder would compute;
    every other embedder (the tests' tiny ones) and every other cache stays in the session's tmp folder.
    Nothing is linked (the folder stays the session's own) when the embedder is not installed or the kept
    folder cannot be made."""
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.metrics.css import CssScorer

    embeddings = _session_cache(tmp_path_factory) / "spotfake" / "embeddings"
    try:
        folder = CssScorer(cache_dir=embeddings).cache.directory
    except SpotfakeError:
        return None
    kept = KEPT_EMBEDDINGS / folder.name
    try:
        kept.mkdir(parents=True, exist_ok=True)
        embeddings.mkdir(parents=True, exist_ok=True)
        if not folder.is_symlink():
            folder.symlink_to(kept, target_is_directory=True)
    except OSError:
        return None
    return kept


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    _kept_minilm_embeddings: Path | None,
) -> None:
    """Each test session gets its own spotfake and HF caches, never the user's: ``$SPOTFAKE_CACHE`` and
    ``$XDG_CACHE_HOME`` (the fallback when a test unsets the first) point below the session's tmp folder,
    whatever the caller's environment says. The one exception is the shipped CSS embedder's folder,
    kept across sessions in the repository's git-ignored ``.cache/`` (:func:`_kept_minilm_embeddings`)."""
    cache = _session_cache(tmp_path_factory)
    monkeypatch.setenv("SPOTFAKE_CACHE", str(cache / "spotfake"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache / "xdg"))
    monkeypatch.setenv("HF_HOME", str(cache / "hf"))


@pytest.fixture
def toy_task_path() -> Path:
    return TOY_TASK


@pytest.fixture
def shared_data() -> SharedData:
    """The published data beside the repository (../shared or $SPOTFAKE_SHARED); skips when absent.

    Every test using it carries the ``shared`` marker, so ``-m "not shared"`` deselects it."""
    root = shared_root()
    if not root.is_dir():
        pytest.skip(f"{root} is absent (set SPOTFAKE_SHARED to the folder holding the shared data)")
    return SharedData(root)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the shared data, before ``-m`` selects."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared)
