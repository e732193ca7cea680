"""Judge-vs-human agreement on pairwise votes (pure functions): does the judge grade higher the explanation
a person chose?

Each vote compares two explanations of one sample and names a winner (``a``, ``b``, ``tie`` or
``both_bad``). A vote counts when the person chose one side and the judge graded both explanations
differently; it *agrees* when the judge's higher grade is the person's choice. Votes of a tie or "both
bad", votes on an explanation the judge did not grade, and votes where the judge gave both the same grade
are left out and counted apart. The share of agreeing votes comes with a Wilson score interval
(:func:`scipy.stats.binomtest`), which treats the votes as independent draws: several voters on one
sample make it narrower than it should be, so the count of samples is reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HUMAN_CHOICES = ("a", "b")


@dataclass(frozen=True)
class Comparison:
    """One vote with the judge's values of both explanations (None: the judge gave no grade)."""

    sample_id: str
    model_a: str
    model_b: str
    winner: str
    judge_a: float | None
    judge_b: float | None


def wilson_interval(agree: int, n: int, confidence: float = 0.95) -> list[float] | None:
    """The Wilson score interval of ``agree`` successes in ``n`` trials; None when ``n`` is 0."""
    from scipy.stats import binomtest

    if n == 0:
        return None
    interval = binomtest(agree, n).proportion_ci(confidence_level=confidence, method="wilson")
    return [float(interval.low), float(interval.high)]


def _share(agree: int, n: int) -> float | None:
    return agree / n if n else None


def agreement(comparisons: Sequence[Comparison], confidence: float = 0.95) -> dict[str, Any]:
    """The agreement report: counts (``n_votes``, ``n_human_ties``, ``n_not_graded``, ``n_judge_ties``,
    ``n_compared``, ``n_agree``, ``n_samples``), ``agreement`` (share of compared votes where the judge's
    higher grade is the person's choice; None with none compared), its Wilson ``ci`` and the same per pair
    of models (``pairs``, sorted)."""
    chosen = [c for c in comparisons if c.winner in HUMAN_CHOICES]
    graded = [c for c in chosen if c.judge_a is not None and c.judge_b is not None]
    compared = [c for c in graded if c.judge_a != c.judge_b]
    agrees = [(c.judge_a > c.judge_b) == (c.winner == "a") for c in compared]  # type: ignore[operator]
    n_agree = sum(agrees)
    pairs: dict[tuple[str, str], list[bool]] = {}
    for c, agreed in zip(compared, agrees, strict=True):
        lo, hi = sorted((c.model_a, c.model_b))
        pairs.setdefault((lo, hi), []).append(agreed)
    return {
        "n_votes": len(comparisons),
        "n_human_ties": len(comparisons) - len(chosen),
        "n_not_graded": len(chosen) - len(graded),
        "n_judge_ties": len(graded) - len(compared),
        "n_compared": len(compared),
        "n_agree": n_agree,
        "n_samples": len({c.sample_id for c in compared}),
        "agreement": _share(n_agree, len(compared)),
        "ci": wilson_interval(n_agree, len(compared), confidence),
        "ci_method": "wilson",
        "confidence": confidence,
        "pairs": [
            {"models": [lo, hi], "n_compared": len(v), "n_agree": sum(v), "agreement": _share(sum(v), len(v))}
            for (lo, hi), v in sorted(pairs.items())
        ],
    }
