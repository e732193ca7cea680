"""How closely a re-run reproduces a submission: per-sample answers compared within the model kind's
tolerance (pure functions; :mod:`.reproduce` does the I/O).

An expert's p(fake) must agree within ``score_atol`` on every sample (a verdict may only differ where the
two scores straddle the threshold within that tolerance); a baseline's exactly; an LMM's verdicts must
agree on all but ``flip_rate`` of the samples (greedy decoding on other hardware or another batch size can
change a few tokens), its texts are counted, not required to be equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spotfake.harness.types import Record

IGNORED_SETTINGS = frozenset({"device", "devices", "device_map"})
"""Settings keys (at any depth) that say where a model ran, not what it is: not compared."""


@dataclass(frozen=True)
class Tolerance:
    """How far a re-run's answers may differ from a submission's and still reproduce it."""

    score_atol: float | None
    """Largest |p(fake) difference| per sample; None: scores are not compared."""
    flip_rate: float
    """Share of the samples whose verdict may differ (beyond those the score tolerance explains)."""

    def describe(self) -> str:
        """One line for messages and the stored provenance."""
        score = "scores not compared" if self.score_atol is None else f"|p(fake) diff| <= {self.score_atol:g}"
        return f"{score}, verdicts differ on at most {self.flip_rate:.1%} of the samples"


TOLERANCES: Mapping[str, Tolerance] = {
    "expert": Tolerance(score_atol=1e-4, flip_rate=0.0),
    "baseline": Tolerance(score_atol=0.0, flip_rate=0.0),
    "lmm": Tolerance(score_atol=None, flip_rate=0.01),
}
"""The default tolerance per model kind (``spotfake verify-run --score-atol / --flip-rate`` override it)."""


@dataclass(frozen=True)
class Agreement:
    """Per-sample comparison of a submission's answers with a re-run's."""

    n: int
    flips: tuple[str, ...]
    """Ids whose verdicts differ and whose scores (if any) do not explain it within the tolerance."""
    score_misses: tuple[tuple[str, float, float], ...]
    """(id, submitted, re-run) for each score beyond the tolerance."""
    max_score_diff: float | None
    same_text: int
    """Samples whose response texts are identical."""
    tolerance: Tolerance

    @property
    def allowed_flips(self) -> int:
        """Verdict differences the tolerance allows on ``n`` samples."""
        return math.floor(self.tolerance.flip_rate * self.n + 1e-9)

    @property
    def reproduced(self) -> bool:
        """Every score within the tolerance and no more verdict differences than it allows."""
        return not self.score_misses and len(self.flips) <= self.allowed_flips

    def summary(self) -> dict[str, object]:
        """What the stored provenance records of the comparison."""
        return {
            "n": self.n,
            "verdicts_differ": len(self.flips),
            "scores_beyond_tolerance": len(self.score_misses),
            "max_abs_score_diff": self.max_score_diff,
            "identical_texts": self.same_text,
            "tolerance": self.tolerance.describe(),
        }

    def refusal(self) -> str:
        """Why the re-run does not reproduce the submission, with a few examples."""
        parts = []
        if self.score_misses:
            shown = "; ".join(
                f"{i[:80]!r}: submitted {a:.6g}, re-run {b:.6g}" for i, a, b in self.score_misses[:3]
            )
            parts.append(
                f"{len(self.score_misses)} of {self.n} scores differ beyond the tolerance (e.g. {shown})"
            )
        if len(self.flips) > self.allowed_flips:
            shown = ", ".join(repr(i[:80]) for i in self.flips[:3])
            parts.append(
                f"{len(self.flips)} of {self.n} verdicts differ, {self.allowed_flips} allowed (e.g. {shown})"
            )
        return "; ".join(parts) + f" ({self.tolerance.describe()})"


def compare_answers(
    submitted: Sequence[Record], rerun: Sequence[Record], tolerance: Tolerance, threshold: float = 0.5
) -> Agreement:
    """Compare two runs of one task sample by sample (both hold the task's ids; ``rerun`` may hold more)."""
    theirs = {r.id: r for r in rerun}
    flips: list[str] = []
    misses: list[tuple[str, float, float]] = []
    largest: float | None = None
    same_text = 0
    for mine in submitted:
        other = theirs[mine.id]
        same_text += int(mine.response is not None and mine.response == other.response)
        explained = False
        if tolerance.score_atol is not None and mine.score is not None and other.score is not None:
            diff = abs(mine.score - other.score)
            largest = diff if largest is None else max(largest, diff)
            if diff > tolerance.score_atol:
                misses.append((mine.id, mine.score, other.score))
            # a verdict may flip where both scores lie within the tolerance of the threshold
            explained = diff <= tolerance.score_atol and abs(mine.score - threshold) <= tolerance.score_atol
        elif tolerance.score_atol is not None and (mine.score is None) != (other.score is None):
            misses.append((mine.id, math.nan if mine.score is None else mine.score, math.nan))
        if mine.verdict != other.verdict and not explained:
            flips.append(mine.id)
    return Agreement(len(submitted), tuple(flips), tuple(misses), largest, same_text, tolerance)


def settings_differences(
    submitted: Mapping[str, object], rerun: Mapping[str, object], prefix: str = ""
) -> list[str]:
    """``key: submitted X, here Y`` for every model setting that differs (where the model ran is ignored)."""
    found = []
    for key in sorted(set(submitted) | set(rerun)):
        if key in IGNORED_SETTINGS:
            continue
        a, b = submitted.get(key), rerun.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            found += settings_differences(a, b, f"{name}.")
        elif a != b:
            found.append(f"{name}: submitted {str(a)[:80]}, here {str(b)[:80]}")
    return found
