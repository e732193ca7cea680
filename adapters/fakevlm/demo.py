"""``fakevlm-demo``: the FakeVLM adapter on the small LLaVA-style model trained here on the demo suite.

The weights (``adapters/weights/fakevlm-demo/``, a Hugging Face folder) were trained from scratch with
``spotfake train fakevlm --from-scratch demo ...`` on the demo training split; ``docs/training.md`` gives the
command, the time it took and its scores. Everything else (prompt, greedy decoding, 256 new tokens, batching,
score mode) is the FakeVLM adapter's published protocol.
"""

from __future__ import annotations

from pathlib import Path

from spotfake.adapters.fakevlm.adapter import FakeVLM
from spotfake.harness.errors import SpotfakeError

DEMO_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "fakevlm-demo"
"""The committed demo model folder."""


class FakeVLMDemo(FakeVLM):
    """FakeVLM on the committed demo weights; takes the FakeVLM adapter's ``--model-args`` (``path=``
    points it at another folder, e.g. a retrained demo model)."""

    device_map = False  # about 1M parameters: loaded on the CPU and moved, so the core install runs it

    def __init__(self, path: str | None = None, **kwargs: str) -> None:
        folder = Path(path) if path else DEMO_WEIGHTS
        if not (folder / "config.json").is_file():
            raise SpotfakeError(
                f"fakevlm-demo: no model folder at {folder} (config.json missing); reinstall spotfake or "
                "retrain it with the command in docs/training.md"
            )
        super().__init__(path=str(folder), **kwargs)
