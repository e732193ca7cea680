"""Trivial baselines: they never read images, so a task's annotations can be checked without them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response, Sample


def claim(sample: Sample, verdict: str) -> str:
    """The answer text for one verdict: about the image, or, for a choice between two images (one real,
    one fake), about the first image, which the verdict parser maps to the matching option letter."""
    if sample.choices:
        return f"The first image is {verdict}."
    return f"This is a {verdict} image."


class _Constant(Model):
    needs_images = False
    no_parameters = "a fixed rule: no weights"
    answer = ""

    def settings(self) -> dict[str, Any]:
        return {"answer": self.answer}

    def predict(self, items: Sequence[Item]) -> list[Response]:
        score = 1.0 if self.answer == "fake" else 0.0
        return [Response(text=claim(item.sample, self.answer), score=score) for item in items]


class AlwaysFake(_Constant):
    """Answers "This is a fake image." (p(fake) = 1) for every sample."""

    answer = "fake"


class AlwaysReal(_Constant):
    """Answers "This is a real image." (p(fake) = 0) for every sample."""

    answer = "real"


class RandomGuess(Model):
    """A seeded coin flip per sample id: the same id always gets the same answer for a given seed."""

    needs_images = False
    no_parameters = "a fixed rule: no weights"

    def __init__(self, seed: str | int = 0) -> None:
        self.seed = int(seed)

    def settings(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            digest = hashlib.sha256(f"{self.seed}:{item.sample.id}".encode()).digest()
            p_fake = int.from_bytes(digest[:8], "big") / 2**64
            verdict = "fake" if p_fake >= 0.5 else "real"
            out.append(Response(text=claim(item.sample, verdict), score=p_fake))
        return out
