"""Which sample and which two explanations the arena shows next (pure: a seeded generator decides).

The pair is one with the fewest votes so far (ties drawn at random), then a sample both models explained,
with two different texts (identical texts are never paired), that this voter has not voted on for the
pair, then the order of the two at random (names are shown only
after the vote). The choice depends on how often each pair was shown, never on who won: the design is
independent of the outcomes, so the Bradley-Terry estimates are those of a fixed, balanced design and need
no correction. Pairing that chases close ratings would feed early noise back into which pairs are asked
and can freeze it: equal models ended ~1,800 points apart in a simulation with such pairing.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass

from spotfake.leaderboard.arena.explaining import different
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


def next_matchup(
    task: TaskCatalog,
    *,
    pair_counts: Mapping[tuple[str, str], int],
    voted: set[tuple[str, str, str]],
    rng: random.Random,
) -> Matchup | None:
    """The next matchup for a voter who already voted on ``voted`` (sample, model, model); None when
    every pair of every sample was voted on by them. ``pair_counts``: votes so far per sorted pair. A
    sample where the two models wrote the same text is never shown for that pair."""
    pairs = list(itertools.combinations(sorted(task.explained), 2))
    rng.shuffle(pairs)
    pairs.sort(key=lambda pair: pair_counts.get(pair, 0))  # stable: ties stay in random order
    for a, b in pairs:
        texts_a, texts_b = task.explained[a], task.explained[b]
        shared = sorted(set(texts_a) & set(texts_b))
        open_ids = [
            sid for sid in shared if (sid, a, b) not in voted and different(texts_a[sid][1], texts_b[sid][1])
        ]
        if open_ids:
            sid = rng.choice(open_ids)
            if rng.random() < 0.5:
                a, b = b, a
            (va, ta), (vb, tb) = task.explained[a][sid], task.explained[b][sid]
            return Matchup(sid, a, b, ta, tb, va, vb)
    return None
