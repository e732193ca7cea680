"""Verdicts are derived where they are scored: from each record's response, by the task's parser.

A verdict stored in a record (``samples.jsonl``) is a cache for readers (the board, reports), written by
the last scoring together with ``results.json``, whose ``scoring.verdict_parser`` names the parser that made
it. Scoring never reads it: :func:`derive_verdicts` re-reads every response, so a fresh run, a resumed run,
``spotfake score`` and a submission re-score give the same number from the same responses, whatever a
records file says and whichever parser version wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record, Sample
from spotfake.harness.verdict.published import (
    DEFAULT_PARSER,
    PARSERS,
    ParserChoice,
    parser_of,
    read_published,
)


@lru_cache(maxsize=16384)
def _parse(
    text: str, kind: str, question: str, yes_means: str | None, choices: tuple[str, ...]
) -> str | None:
    """spotfake's parser behind a cache: it is a pure function, and answers repeat a lot in practice."""
    from spotfake.harness.verdict import parse_verdict

    return parse_verdict(text, kind=kind, question=question, yes_means=yes_means, choices=choices)  # type: ignore[arg-type]


def _reading(
    sample: Sample,
    text: str | None,
    score: float | None,
    error: str | None,
    answer_kind: str,
    threshold: float,
    parser: ParserChoice,
) -> tuple[str | None, bool]:
    """``(verdict, random pick)`` of one answer: from its text when there is text, else from its score."""
    if error is not None:
        return None, False
    if parser.published and text is not None:
        reading = read_published(parser, text, sample, answer_kind)
        return reading.verdict, reading.random_pick
    if text is not None and text.strip():
        return _parse(text, answer_kind, sample.prompt, sample.yes_means, tuple(sample.choices)), False
    if score is not None and answer_kind != "choice":
        return ("fake" if score >= threshold else "real"), False
    return None, False


def parser_id(parser: ParserChoice) -> str:
    """The version string of ``parser`` as ``results.json['scoring']['verdict_parser']`` records it."""
    if not parser.published:
        from spotfake.harness.verdict import PARSER_VERSION

        return PARSER_VERSION
    return PARSERS[parser.name].version


def derive_verdicts(task: LoadedTask, records: Iterable[Record], threshold: float) -> dict[str, object]:
    """Set every record's verdict from its response with the task's parser; return the parser's part of
    ``results.json['scoring']`` (name, version, seed, count of random picks)."""
    parser = parser_of(task.args)
    by_id = {s.id: s for s in task.samples}
    kind = task.spec.answer_kind
    picks = 0
    for record in records:
        sample = by_id.get(record.id)
        if sample is None or (record.response is None and record.score is None and record.error is None):
            record.verdict = None
            continue
        record.verdict, guessed = _reading(
            sample, record.response, record.score, record.error, kind, threshold, parser
        )
        picks += guessed
    if parser.name == DEFAULT_PARSER:
        return {"parser": parser.name, "verdict_parser": parser_id(parser), "n_random_picks": picks}
    return {
        "parser": parser.name,
        "verdict_parser": parser_id(parser),
        "parser_source": PARSERS[parser.name].source,
        "parser_seed": parser.seed,
        "n_random_picks": picks,
    }
