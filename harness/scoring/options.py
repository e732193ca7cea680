"""How a run is scored: the options recorded in ``results.json['scoring']``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ScoringOptions:
    """How verdicts and metrics are computed (recorded in ``results.json['scoring']``)."""

    threshold: float = 0.5
    n_bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    css_model: str | None = None
    css_cache_dir: str | None = None
