"""spotfake's metrics: pure functions over records, each with a metric card in its docstring.

- :func:`score_records` fills per-sample ``correct`` and every record field the requested metrics declare
  (``rouge_l``, ``css``, ``bleu_stats`` and plugins' own, :mod:`harness.metrics.record_fields`);
- metric groups (``detection``, ``calibration``, ``explanation``, ...) name ordered lists of metrics;
  :func:`resolve_metrics` expands names, groups and ``+name`` / ``-name`` items;
- :func:`summarize` gives counts, every registered metric (:mod:`harness.metrics.registry`: acc, the F1
  family, acc_real / acc_fake, auc / ap / eer / tpr_at_fpr*, ece / brier, rouge_l / css / bleu4 and their
  verdict-gated forms, plus plugins), bootstrap intervals and breakdowns;
- :func:`rouge_l_scores` (identical to rouge-score, much faster) and :class:`CssScorer` work on plain
  texts; both are also published as ``evaluate`` modules (:func:`evaluate_module_path`).
"""

from __future__ import annotations

from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.columns import is_correct
from spotfake.harness.metrics.css import CssScorer
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.record_fields import FieldContext, RecordField, mean_of_field, per_record
from spotfake.harness.metrics.registry import (
    COUNTS,
    METRICS,
    MetricDef,
    MetricGroup,
    check_metric_names,
    higher_is_better,
    iter_metrics,
    metric_def,
    metric_group,
    metric_group_names,
    metric_label,
    metric_names,
    register_metric,
    register_metric_group,
)
from spotfake.harness.metrics.rouge import rouge_l_scores
from spotfake.harness.metrics.scoring import score_records
from spotfake.harness.metrics.selection import resolve_metrics
from spotfake.harness.metrics.summary import Summary, summarize

EVALUATE_MODULES = ("spotfake_rouge_l", "spotfake_css")


def evaluate_module_path(name: str) -> str:
    """Local path of a spotfake ``evaluate`` module, for ``evaluate.load(path)`` (works offline).

    ``name`` is ``"spotfake_rouge_l"`` or ``"spotfake_css"`` (``"rouge_l"`` and ``"css"`` also work).
    """
    module = name if name.startswith("spotfake_") else f"spotfake_{name}"
    if module not in EVALUATE_MODULES:
        raise SpotfakeError(f"unknown evaluate module {name!r} (known: {', '.join(EVALUATE_MODULES)})")
    return str(Path(__file__).resolve().parent / "evaluate_modules" / module)


__all__ = [
    "COUNTS",
    "EVALUATE_MODULES",
    "METRICS",
    "CssScorer",
    "FieldContext",
    "MetricDef",
    "MetricGroup",
    "MetricInputs",
    "RecordField",
    "Summary",
    "check_metric_names",
    "evaluate_module_path",
    "higher_is_better",
    "is_correct",
    "iter_metrics",
    "mean_of_field",
    "metric_def",
    "metric_group",
    "metric_group_names",
    "metric_label",
    "metric_names",
    "per_record",
    "register_metric",
    "register_metric_group",
    "resolve_metrics",
    "rouge_l_scores",
    "score_records",
    "summarize",
]
