"""Plain-text leaderboard tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spotfake.harness.metrics.registry import metric_label
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity

DEFAULT_COLUMNS = ("acc", "acc_calibrated", "f1", "auc", "ap", "eer", "rouge_l", "css", "bleu4")


def format_value(value: Any, ci: Sequence[Any] | None) -> str:
    """``0.912 [0.88, 0.94]``, or ``-`` for a metric that does not apply."""
    if value is None:
        return "-"
    text = f"{value:.3f}"
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def leaderboard_table(results: Sequence[Results], columns: Sequence[str] = DEFAULT_COLUMNS) -> str:
    """One row per result, sorted by accuracy (best first); columns with no value anywhere are dropped.

    Column labels come from the metric registry.
    """
    shown = [c for c in columns if any(r["metrics"].get(c) is not None for r in results)]
    rows = sorted(results, key=lambda r: -(r["metrics"].get("acc") or 0.0))
    header = ["model", "task", *[metric_label(c) for c in shown], "unparsed", "n"]
    body = [
        [
            RunIdentity.from_results(r).display_name(with_perturbation=False),
            r["task"]["name"] + (f"@{r['perturbation']['slug']}" if "perturbation" in r else ""),
            *[format_value(r["metrics"].get(c), r.get("ci", {}).get(c)) for c in shown],
            format_value(r["metrics"].get("unparsed_rate"), None),
            str(r["metrics"].get("n", "")),
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(lines)
