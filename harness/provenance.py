"""What produced a result: package versions, git revision, platform. Cheap: imports nothing heavy."""

from __future__ import annotations

import platform
import subprocess
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from spotfake.harness.allocator import allocator_settings

TRACKED_PACKAGES = (
    "spotfake",
    "numpy",
    "torch",
    "torchvision",
    "transformers",
    "tokenizers",
    "accelerate",
    "peft",
    "datasets",
    "scikit-learn",
    "rouge-score",
    "nltk",
    "sentence-transformers",
    "evaluate",
    "pillow",
    "openai",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change a result (absent ones are left out)."""
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


@lru_cache(maxsize=1)
def git_revision() -> dict[str, Any] | None:
    """The git commit of the spotfake checkout and whether it had uncommitted changes; None outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": rev, "dirty": bool(dirty)}


def accelerator() -> str | None:
    """The name of the CUDA device in use, if torch is already imported and sees one."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if torch.cuda.is_available():
            return str(torch.cuda.get_device_name(0))
    except Exception:
        return None
    return None


def environment() -> dict[str, Any]:
    """Everything about the machine and software that a result should carry."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "accelerator": accelerator(),
        "malloc": allocator_settings(),
        "packages": package_versions(),
        "git": git_revision(),
    }
