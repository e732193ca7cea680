"""Which sample and which two explanations the arena shows next (pure: a seeded generator decides).

Informative pairs first: a pair's weight is ``1 / (1 + votes of both models)`` (models with few votes)
times ``exp(-|rating gap| / 200)`` (close ratings, where a vote moves the order most); a pair is drawn
with probability proportional to the squared weight, then a sample both models explained and this voter
has not voted on, then the order of the two at random (names are shown only after the vote).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from spotfake.leaderboard.arena.votes import TaskCatalog


@dataclass(frozen=True)
class Matchup:
    """What to show: a sample and two models (A first), with their verdicts and explanations."""

    sample_id: str
    model_a: str
    model_b: str
    text_a: str
    text_b: str
    verdict_a: str | None
    verdict_b: str | None


def pair_weight(votes_a: int, votes_b: int, rating_a: float, rating_b: float) -> float:
    """How informative a vote on this pair is (see the module doc)."""
    return math.exp(-abs(rating_a - rating_b) / 200.0) / (1.0 + votes_a + votes_b)


def next_matchup(
    task: TaskCatalog,
    *,
    vote_counts: Mapping[str, int],
    ratings: Mapping[str, float],
    voted: set[tuple[str, str, str]],
    rng: random.Random,
) -> Matchup | None:
    """The next matchup for a voter who already voted on ``voted`` (sample, model, model); None when
    every pair of every sample was voted on by them."""
    models = sorted(task.explained)
    pairs = list(itertools.combinations(models, 2))
    weights = {
        (a, b): pair_weight(
            vote_counts.get(a, 0), vote_counts.get(b, 0), ratings.get(a, 1000.0), ratings.get(b, 1000.0)
        )
        ** 2
        for a, b in pairs
    }
    while weights:
        candidates = list(weights)
        a, b = rng.choices(candidates, weights=[weights[p] for p in candidates])[0]
        shared = sorted(set(task.explained[a]) & set(task.explained[b]))
        open_ids = [sid for sid in shared if (sid, a, b) not in voted]
        if open_ids:
            sid = rng.choice(open_ids)
            if rng.random() < 0.5:
                a, b = b, a
            (va, ta), (vb, tb) = task.explained[a][sid], task.explained[b][sid]
            return Matchup(sid, a, b, ta, tb, va, vb)
        del weights[(a, b) if (a, b) in weights else (b, a)]
    return None
