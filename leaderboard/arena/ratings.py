"""Bradley-Terry ratings from pairwise votes, on LMArena's Elo-like scale, with bootstrap intervals.

Model: P(i beats j) = 1 / (1 + 10 ** ((R_j - R_i) / 400)). The ratings maximise the likelihood of the
votes; a tie and a "both bad" count as half a win for each side (both say "neither is better"). The
ratings are shifted to mean 1000. A tiny ridge penalty (:data:`RIDGE`) keeps the optimum finite when a
model won or lost every vote; it moves ratings by far less than their intervals. Intervals: percentile
bootstrap over votes (resampled with replacement, seeded). Citation: Bradley and Terry, 1952; Chiang et
al., "Chatbot Arena", 2024 (the scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spotfake.leaderboard.arena.votes import Vote

SCALE = 400 / math.log(10)
MEAN = 1000.0
RIDGE = 1e-3
"""Penalty on the squared natural-log strengths (a prior worth about a thousandth of a vote)."""


@dataclass(frozen=True)
class Rating:
    """One model's rating, its bootstrap interval and how many votes it took part in."""

    model: str
    rating: float
    ci: tuple[float, float] | None
    votes: int


def outcomes(votes: Sequence[Vote], models: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays (i, j, s): the two model indices of each vote and the score of i (1, 0 or 0.5)."""
    index = {m: k for k, m in enumerate(models)}
    i = np.array([index[v.model_a] for v in votes], dtype=np.int64)
    j = np.array([index[v.model_b] for v in votes], dtype=np.int64)
    s = np.array([{"a": 1.0, "b": 0.0}.get(v.winner, 0.5) for v in votes], dtype=np.float64)
    return i, j, s


def fit_strengths(i: np.ndarray, j: np.ndarray, s: np.ndarray, w: np.ndarray, n_models: int) -> np.ndarray:
    """Maximum-likelihood log-strengths (natural log, mean 0) by Newton's method; ``w`` weights votes."""
    theta = np.zeros(n_models)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(theta[i] - theta[j])))
        r = w * (s - p)
        grad = np.bincount(i, r, n_models) - np.bincount(j, r, n_models) - 2 * RIDGE * theta
        h = w * p * (1 - p)
        hess = np.zeros((n_models, n_models))
        np.add.at(hess, (i, i), -h)
        np.add.at(hess, (j, j), -h)
        np.add.at(hess, (i, j), h)
        np.add.at(hess, (j, i), h)
        hess -= 2 * RIDGE * np.eye(n_models)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-9:
            break
    return theta - theta.mean()


def to_scale(theta: np.ndarray) -> np.ndarray:
    """Log-strengths -> ratings (400 per factor 10 of odds, mean 1000)."""
    return MEAN + SCALE * (theta - theta.mean())


def bradley_terry(
    votes: Sequence[Vote], *, n_bootstrap: int = 200, seed: int = 0, confidence: float = 0.95
) -> list[Rating]:
    """Ratings of every model in ``votes``, best first, with ``confidence`` bootstrap intervals."""
    models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
    if not models:
        return []
    i, j, s = outcomes(votes, models)
    n = len(votes)
    point = to_scale(fit_strengths(i, j, s, np.ones(n), len(models)))
    counts = np.bincount(i, minlength=len(models)) + np.bincount(j, minlength=len(models))
    intervals: list[tuple[float, float] | None] = [None] * len(models)
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        draws = np.empty((n_bootstrap, len(models)))
        for b in range(n_bootstrap):
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
            draws[b] = to_scale(fit_strengths(i, j, s, w, len(models)))
        alpha = (1 - confidence) / 2
        lo, hi = np.percentile(draws, [100 * alpha, 100 * (1 - alpha)], axis=0)
        intervals = [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]
    out = [Rating(m, float(point[k]), intervals[k], int(counts[k])) for k, m in enumerate(models)]
    return sorted(out, key=lambda r: (-r.rating, r.model))


MIN_VOTES = 30
"""Votes a model needs before the board shows its rating (``--arena-min-votes``): with fewer, the
interval is too wide for the number to mean anything (one or two votes gave 2161 [1000, 2315])."""


def rated(ratings: Sequence[Rating], min_votes: int = MIN_VOTES) -> tuple[list[Rating], list[Rating]]:
    """(ratings that may be shown: at least ``min_votes`` votes and an interval; the others)."""
    shown = [r for r in ratings if r.votes >= min_votes and r.ci is not None]
    return shown, [r for r in ratings if r not in shown]


def rating_rows(ratings: Sequence[Rating], min_votes: int = MIN_VOTES) -> list[dict[str, Any]]:
    """``[{"model", "rating", "ci": [lo, hi], "votes", "below_minimum"}]``, best first; models under
    ``min_votes`` votes come last, with no rating and no interval (as on the board)."""
    rows: list[dict[str, Any]] = []
    for r in sorted(ratings, key=lambda r: r.votes < min_votes):  # stable: best first, then the others
        below = r.votes < min_votes
        rows.append({
            "model": r.model,
            "rating": None if below else r.rating,
            "ci": list(r.ci) if r.ci and not below else None,
            "votes": r.votes,
            "below_minimum": below,
        })  # fmt: skip
    return rows


def ratings_json(
    task: str, votes: Sequence[Vote], ratings: Sequence[Rating], min_votes: int = MIN_VOTES
) -> dict[str, object]:
    """``{"task", "n_votes", "min_votes", "ratings": rating_rows(...)}``."""
    return {
        "task": task,
        "n_votes": len(votes),
        "min_votes": min_votes,
        "ratings": rating_rows(ratings, min_votes),
    }


def rank_agreement(
    ratings: Sequence[Rating], metrics: Mapping[str, Mapping[str, float | None]]
) -> dict[str, float | None]:
    """Kendall's tau between the human ratings and each automatic metric over the models having both.

    ``metrics``: metric name -> model -> value. The sign is oriented by the metric registry's direction,
    so positive always means "humans and the metric order models alike". None with fewer than 3 models.
    """
    from spotfake.harness.judge.check import kendall_tau
    from spotfake.harness.metrics.registry import higher_is_better

    human = {r.model: r.rating for r in ratings}
    out: dict[str, float | None] = {}
    for name, values in metrics.items():
        models = [m for m in human if values.get(m) is not None]
        tau = kendall_tau([human[m] for m in models], [float(values[m]) for m in models])  # type: ignore[arg-type]
        out[name] = None if tau is None else (tau if higher_is_better(name) else -tau)
    return out
