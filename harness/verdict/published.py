"""The verdict parsers a task can be scored with: spotfake's own (the default) and published rules.

``--task-args parser=NAME`` picks one; ``parser_seed=N`` (default 0) seeds the random picks of a
published rule. A random pick is drawn from ``random.Random(f"{parser}:{seed}:{sample id}")``, so the
same sample gets the same pick in every run, in any order, on any number of ranks, and the count of
random picks is part of ``results.json`` (``scoring.n_random_picks``). The parser and its seed are task
arguments, so they are part of the run key and of ``results.json['task']['args']``.

==========  ===================  ==========================================================================
name        answer kinds         rule
==========  ===================  ==========================================================================
spotfake    verdict yesno choice this package (never guesses; ``PARSER_VERSION``)
loki        yesno choice         LOKI's ``parse_true_or_false`` / ``parse_multi_choice_response``
                                 (:mod:`harness.verdict.loki_rule`; random letter when nothing parses)
fakevlm     verdict              FakeVLM's eval.py (:mod:`harness.verdict.fakevlm_rule`; coin when
                                 neither "real" nor "fake" is in the first two sentences)
==========  ===================  ==========================================================================
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.types import Label, Sample
from spotfake.harness.verdict.fakevlm_rule import fakevlm_verdict
from spotfake.harness.verdict.loki_rule import loki_choice, loki_yes_no, options_from_prompt
from spotfake.harness.verdict.questions import question_label
from spotfake.harness.verdict.vocabulary import OTHER

DEFAULT_PARSER = "spotfake"
PARSER_ARGS = ("parser", "parser_seed")
"""Task arguments that choose the verdict parser; the engine reads them, readers never see them."""


@dataclass(frozen=True)
class ParserDef:
    """A verdict parser: its name, the version recorded in results, the answer kinds it reads, its source."""

    name: str
    version: str
    kinds: tuple[str, ...]
    source: str
    guesses: bool = False
    """Whether the rule ever picks at random (spotfake's own parser never does)."""


PARSERS: dict[str, ParserDef] = {
    "spotfake": ParserDef("spotfake", "", ("verdict", "yesno", "choice"), "harness/verdict/"),
    "loki": ParserDef(
        "loki",
        "loki-251b4f6",
        ("yesno", "choice"),
        "github.com/opendatalab/LOKI lm_evaluate/tasks/loki.py@251b4f6 lines 156-275",
        guesses=True,
    ),
    "fakevlm": ParserDef(
        "fakevlm",
        "fakevlm-eval-fdcdcf1",
        ("verdict",),
        "github.com/opendatalab/FakeVLM scripts/eval.py@fdcdcf1 lines 148-167",
        guesses=True,
    ),
}
"""Every parser name ``--task-args parser=`` accepts."""


@dataclass(frozen=True)
class ParserChoice:
    """The parser a task is scored with and the seed of its random picks."""

    name: str = DEFAULT_PARSER
    seed: int = 0

    @property
    def published(self) -> bool:
        """Whether this is a published rule rather than spotfake's own parser."""
        return self.name != DEFAULT_PARSER


class Reading(NamedTuple):
    """What a parser read from one answer: the verdict (None = unknown) and whether it was a random pick."""

    verdict: str | None
    random_pick: bool


def check_parser_args(task: str, answer_kind: str, args: MutableMapping[str, Any]) -> ParserChoice:
    """Validate the parser arguments of a task (before any model is built) and return the choice.

    ``parser=spotfake`` is the default and is dropped from ``args``, so naming it changes no run key.
    Raises SpotfakeError (one line, listing the valid names) for an unknown parser, a parser that does not
    read this task's answers, or a seed that is not an integer.
    """
    name = str(args.get("parser", DEFAULT_PARSER)).strip()
    parser = PARSERS.get(name)
    if parser is None:
        close = difflib.get_close_matches(name, PARSERS, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise SpotfakeError(f"task {task}: unknown parser {name!r} (valid: {', '.join(PARSERS)}){hint}")
    if answer_kind not in parser.kinds:
        valid = [p.name for p in PARSERS.values() if answer_kind in p.kinds]
        raise SpotfakeError(
            f"task {task}: parser {name} reads {'/'.join(parser.kinds)} answers but this task's answers are "
            f"{answer_kind} (valid here: {', '.join(valid)})"
        )
    if not parser.guesses:
        if "parser_seed" in args:
            raise SpotfakeError(
                f"task {task}: parser_seed applies only to parsers that guess (loki, fakevlm)"
            )
        args.pop("parser", None)
        return ParserChoice()
    raw = str(args.get("parser_seed", "0")).strip()
    try:
        seed = int(raw)
    except ValueError:
        raise SpotfakeError(f"task {task}: parser_seed must be an integer, got {raw!r}") from None
    return ParserChoice(name, seed)


def parser_of(args: Mapping[str, Any]) -> ParserChoice:
    """The parser choice recorded in (already checked) task arguments; spotfake's own when none is."""
    name = str(args.get("parser", DEFAULT_PARSER)).strip()
    if name == DEFAULT_PARSER:
        return ParserChoice()
    seed = str(args.get("parser_seed", "0")).strip()
    if name not in PARSERS or not seed.lstrip("-").isdigit():
        raise SpotfakeError(
            f"parser={name!r}, parser_seed={seed!r}: expected one of {', '.join(PARSERS)} and an integer"
        )
    return ParserChoice(name, int(seed))


def read_published(choice: ParserChoice, text: str, sample: Sample, kind: str) -> Reading:
    """A published rule's reading of ``text`` as an answer to ``sample`` (a pure function of its inputs)."""
    rng = random.Random(f"{choice.name}:{choice.seed}:{sample.id}")
    if choice.name == "fakevlm":
        label, guessed = fakevlm_verdict(text, rng)
        return Reading(label, guessed)
    if choice.name == "loki":
        if kind == "choice":
            letters = tuple(sample.choices) or ("A", "B")
            pick, guessed = loki_choice(text, options_from_prompt(sample.prompt, letters), rng)
            return Reading(pick if pick in letters else None, guessed)
        answer = loki_yes_no(text)
        means: Label | None = sample.yes_means or question_label(sample.prompt)
        if answer == "other" or means is None:
            return Reading(None, False)
        return Reading(means if answer == "yes" else OTHER[means], False)
    raise SpotfakeError(f"parser {choice.name!r} is not a published rule (valid: loki, fakevlm)")
