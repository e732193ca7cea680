"""The embedded demo suite: real crops of package-shipped photos and fakes from generators trained here.

The committed set lives in ``data/`` (FakeClue layout: ``data_json/<split>.json``, images under
``<split>/``); ``spotfake demo build --seed N`` rebuilds it bit for bit and ``spotfake demo verify`` checks
it against ``data/manifest.json``. This module imports nothing heavy, so the task definition's
``default_data_root: "spotfake.tasks.demo:data"`` resolves through :data:`__file__`.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
"""The committed demo set."""

__all__ = ["DATA_DIR"]
