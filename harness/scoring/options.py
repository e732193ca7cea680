"""How a run is scored: the options recorded in ``results.json['scoring']``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spotfake.harness.scoring.thresholds import Calibration


@dataclass
class ScoringOptions:
    """How verdicts and metrics are computed (recorded in ``results.json['scoring']``)."""

    threshold: float = 0.5
    n_bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    css_model: str | None = None
    css_cache_dir: str | None = None
    css_clip_model: str | None = None
    """Local CLIP folder for ``css_clip77`` (``--css-clip-model``)."""
    calibration: Calibration | None = None
    """``--threshold calibrate=SPLIT``: the split, and once the runner fitted it, the threshold and the task
    it came from (``acc_calibrated``; :mod:`harness.scoring.thresholds`)."""

    def check_metrics(self, metrics: Iterable[str]) -> None:
        """Raise the one-line error when one of ``metrics`` needs an option that is not set
        (``css_clip77`` without ``css_clip_model``)."""
        from spotfake.harness.metrics.explanation_variants import check_scoring_options

        check_scoring_options(metrics, self.css_clip_model)
