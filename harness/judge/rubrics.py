"""The judge's rubrics by name (``--judge-args rubric=NAME``): what each renders, asks for and reads back.

=========  =======  ============================================  ==========================================
name       version  scale (grade -> judge value on 0..1)          grades
=========  =======  ============================================  ==========================================
spotfake   2        1..5 -> ``(score - 1) / 4``                   every explanation (:mod:`.rubric`)
loki       1        four criteria 0..5, summed 0..20 -> ``/ 20``  explanations of fake images with annotations
                                                                  (:mod:`.loki_rubric`, LOKI's GPT-4o rubric)
=========  =======  ============================================  ==========================================

Each rubric's name, version and prompt sha256 are recorded in ``results.json`` (``scoring.judge``) and are
part of every cache key, so no grade is reused under another rubric. Both put the graded text in the same
injection-safe block (one JSON string between random ``BEGIN-``/``END-`` tags).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge import loki_rubric, rubric
from spotfake.harness.judge.rubric import Grade


class RenderPrompt(Protocol):
    """Signature of a rubric's prompt renderer (as :func:`harness.judge.rubric.render_prompt`)."""

    def __call__(
        self,
        verdict: str | None,
        explanation: str,
        references: Sequence[str],
        *,
        with_image: bool,
        tag: str | None = None,
    ) -> str: ...


@dataclass(frozen=True)
class Rubric:
    """One versioned rubric: its prompt, the JSON schema of its answer, how a reply is read, its scale."""

    name: str
    version: str
    scale: str
    """The grade's scale and its judge value, as ``results.json`` records it."""
    source: str
    render: RenderPrompt
    schema: Mapping[str, Any]
    parse: Callable[[str], Grade | None]
    digest: Callable[[], str]
    max_tokens: int = 400
    """The reply's default token limit (``--judge-args max_tokens=`` overrides it)."""
    fake_only: bool = False
    """Grades explanations of fake images that have reference annotations only (LOKI asks why an image is
    AI-generated); other samples are outside its population."""

    @cached_property
    def prompt_sha256(self) -> str:
        """sha256 of the rubric's template, texts and schema."""
        return self.digest()

    def applies(self, label: str | None, references: Sequence[str]) -> bool:
        """Whether a sample of ``label`` with ``references`` is graded under this rubric."""
        if not self.fake_only:
            return True
        return label == "fake" and any(r.strip() for r in references)

    def describe(self) -> dict[str, Any]:
        """``rubric``, ``rubric_version``, ``rubric_scale`` and ``prompt_sha256`` for ``results.json``."""
        return {
            "rubric": self.name,
            "rubric_version": self.version,
            "rubric_scale": self.scale,
            "prompt_sha256": self.prompt_sha256,
        }


DEFAULT_RUBRIC = "spotfake"
RUBRICS: dict[str, Rubric] = {
    "spotfake": Rubric(
        name="spotfake",
        version=rubric.RUBRIC_VERSION,
        scale="1..5; judge value (score - 1) / 4",
        source="spotfake (harness/judge/rubric.py)",
        render=rubric.render_prompt,
        schema=rubric.RESPONSE_SCHEMA,
        parse=rubric.parse_grade,
        digest=rubric.prompt_sha256,
    ),
    "loki": Rubric(
        name="loki",
        version=loki_rubric.LOKI_RUBRIC_VERSION,
        scale="overall, completeness, correctness, plausibility 0..5 each, summed 0..20; judge value total / 20",
        source=loki_rubric.LOKI_SOURCE,
        render=loki_rubric.render_loki_prompt,
        schema=loki_rubric.LOKI_RESPONSE_SCHEMA,
        parse=loki_rubric.parse_loki_grade,
        digest=loki_rubric.loki_prompt_sha256,
        max_tokens=loki_rubric.LOKI_MAX_TOKENS,
        fake_only=loki_rubric.FAKE_ONLY,
    ),
}


def rubric_named(name: str) -> Rubric:
    """The rubric called ``name``; one line listing the known ones otherwise."""
    found = RUBRICS.get(name.strip().lower())
    if found is None:
        raise SpotfakeError(f"--judge-args: unknown rubric {name!r} (known: {', '.join(RUBRICS)})")
    return found
