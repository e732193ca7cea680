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


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session gets its own spotfake and HF caches, never the user's: ``$SPOTFAKE_CACHE`` and
    ``$XDG_CACHE_HOME`` (the fallback when a test unsets the first) point below the session's tmp folder,
    whatever the caller's environment says."""
    cache = tmp_path_factory.getbasetemp() / "cache"
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
