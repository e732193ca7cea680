"""Optional libraries: a missing one becomes one line naming the pip command that installs it.

The core install evaluates models on tasks; the leaderboard, report figures, training, the transformers
LMM adapters, the Hugging Face dataset reader and a PostgreSQL arena need extras (pyproject.toml's
``[project.optional-dependencies]``). Each command calls :func:`require` where it first needs one.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from spotfake.harness.errors import SpotfakeError


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install 'spotfake[extra]'``."""
    return f"pip install 'spotfake[{extra}]'"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature`` (e.g. "spotfake leaderboard"), or raise one SpotfakeError line
    naming the extra that provides it and the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if module == missing or module.startswith(missing + "."):
            raise SpotfakeError(
                f"{feature} needs the '{extra}' extra ({module} is not installed): {install_hint(extra)}"
            ) from None
        raise SpotfakeError(
            f"{feature}: {module} cannot be imported ({missing} is missing); reinstall it: {install_hint(extra)}"
        ) from None
    except ImportError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SpotfakeError(
            f"{feature}: {module} cannot be imported ({first}); reinstall it: {install_hint(extra)}"
        ) from None
