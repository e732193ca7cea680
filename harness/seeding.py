"""Seed every random number generator a run may touch."""

from __future__ import annotations

import os
import random
import sys


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and (if already imported) torch; set PYTHONHASHSEED for child processes."""
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
