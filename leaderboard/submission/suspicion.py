"""Submissions that pass every check can still be too good to be true: recomputation only proves that the
numbers match the submitted answers, not that a detector made them. These flags name what an honest
detector does not do; a flagged submission is stored, shown with its flags and ranked apart.

- ``labels_copied``: every submitted p(fake) equals the task's label (1 for fakes, 0 for reals): the
  public labels, not a detector's output.
- ``binary_perfect``: p(fake) takes only the values 0 and 1 and separates the classes perfectly.
- ``above_reproduced``: a metric beats every reproduced run of the task by more than the submission's
  own confidence interval (half-width) allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spotfake.harness.results_contract import Results
from spotfake.harness.types import Record

FLAGS = ("labels_copied", "binary_perfect", "above_reproduced")
RANKED_METRICS = ("acc", "auc", "balanced_acc")
"""The metrics ``above_reproduced`` compares (those a board ranks by)."""


def _scored(records: Sequence[Record]) -> list[tuple[int, float]]:
    return [
        (int(r.label == "fake"), float(r.score))
        for r in records
        if r.score is not None and r.label in ("real", "fake")
    ]


def labels_copied(records: Sequence[Record]) -> bool:
    """Every record has a score, and every score is its label (1.0 for fake, 0.0 for real)."""
    scored = _scored(records)
    return bool(scored) and len(scored) == len(records) and all(s == y for y, s in scored)


def binary_perfect(records: Sequence[Record]) -> bool:
    """Scores only 0 and 1, both classes present, every fake at 1 and every real at 0."""
    scored = _scored(records)
    labels = {y for y, _ in scored}
    return labels == {0, 1} and {s for _, s in scored} <= {0.0, 1.0} and all(s == y for y, s in scored)


def above_reproduced(results: Results, reproduced: Sequence[Mapping[str, object]]) -> list[str]:
    """The ranked metrics on which ``results`` beats the best reproduced run of its task by more than its
    own CI half-width (none when no reproduced run has the metric)."""
    out = []
    for metric in RANKED_METRICS:
        value = results["metrics"].get(metric)
        best = [v for r in reproduced if isinstance(v := _metrics(r).get(metric), (int, float))]
        if not isinstance(value, (int, float)) or not best:
            continue
        low, high = (list(results.get("ci", {}).get(metric) or []) + [None, None])[:2]
        half = (high - low) / 2 if isinstance(low, (int, float)) and isinstance(high, (int, float)) else 0.0
        if value - max(best) > half:
            out.append(
                f"{metric} {value:.3f} is above every reproduced run (best {max(best):.3f}) by more than its CI"
            )
    return out


def _metrics(results: Mapping[str, object]) -> Mapping[str, object]:
    metrics = results.get("metrics")
    return metrics if isinstance(metrics, Mapping) else {}


def suspicion_flags(
    results: Results, records: Sequence[Record], reproduced: Sequence[Mapping[str, object]]
) -> list[dict[str, str]]:
    """Every flag that applies, each ``{"flag": name, "detail": one line}``."""
    flags = []
    if labels_copied(records):
        flags.append({"flag": "labels_copied", "detail": "every p(fake) equals the task's label"})
    elif binary_perfect(records):
        flags.append(
            {"flag": "binary_perfect", "detail": "p(fake) is only 0 or 1 and separates the classes perfectly"}
        )
    flags += [{"flag": "above_reproduced", "detail": d} for d in above_reproduced(results, reproduced)]
    return flags
