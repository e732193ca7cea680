"""Parsing a submission: both files through the engine's strict JSON reader and record converter.

Nothing here knows the task: it checks that ``results.json`` is a results file of the engine's schema with
a usable model name and kind, and that ``samples.jsonl`` is one well-typed record per line with unique ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import decode_text, loads_strict
from spotfake.harness.model_kind import MODEL_KINDS
from spotfake.harness.record_json import record_from_json, response_from_json
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, validate_results
from spotfake.harness.results_contract import Results
from spotfake.harness.types import Record, Response
from spotfake.leaderboard.received import Limits

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
"""The model kinds a submission may declare (the results contract's)."""


def parse_results(data: bytes) -> Results:
    """Parse the submitted ``results.json`` strictly and check it against the results schema.

    Refused (one line each): text that is not JSON or not UTF-8, duplicate keys, nesting deeper than the
    engine's limit, non-finite numbers (``NaN``, ``1e400``), a schema violation, an unknown ``model.kind``,
    a model name that cannot be a leaderboard name, and ``source: reported``.
    """
    value = loads_strict(data, where=RESULTS_FILE)
    if not isinstance(value, dict):
        raise SpotfakeError(f"{RESULTS_FILE}: expected a JSON object, as written by `spotfake run`")
    model = value.get("model")
    kind = model.get("kind") if isinstance(model, dict) else None
    if isinstance(model, dict) and kind not in MODEL_KINDS:
        raise SpotfakeError(
            f"{RESULTS_FILE}: model.kind {str(kind)[:40]!r} is not one of {', '.join(MODEL_KINDS)}; "
            "say 'lmm' for a model that answers in words, 'expert' for a classifier giving p(fake)"
        )
    validate_results(value, source=RESULTS_FILE)
    results = cast(Results, value)
    if results["source"] == "reported":
        raise SpotfakeError(
            f"{RESULTS_FILE}: source 'reported' cannot be submitted; a submission is a run whose per-sample "
            "answers the leaderboard re-scores"
        )
    name = results["model"]["name"]
    if not MODEL_NAME.match(name):
        raise SpotfakeError(
            f"{RESULTS_FILE}: model name {name[:120]!r} is not usable as a leaderboard name; use 1-100 letters, "
            "digits, '.', '_', '+' or '-', starting with a letter or digit"
        )
    return results


@dataclass(frozen=True)
class SubmittedRecord:
    """One parsed line of the submitted ``samples.jsonl``: its line, the typed record and the keys it had."""

    line: int
    record: Record
    keys: frozenset[str]
    response: Response | None
    """The model's answer, or None for a *missing* sample (no response, score or error recorded)."""

    @property
    def id(self) -> str:
        """The sample id."""
        return self.record.id

    def claims(self, key: str) -> bool:
        """Whether the submitted line carried ``key`` (a claimed per-sample value to check)."""
        return key in self.keys


def _lines(text: str, limits: Limits) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if (
            len(line) * 4 > limits.line_bytes
            and len(line.encode("utf-8", "surrogatepass")) > limits.line_bytes
        ):
            size = len(line.encode("utf-8", "surrogatepass"))
            raise SpotfakeError(
                f"{SAMPLES_FILE} line {number}: {size:,} bytes is over the limit of {limits.line_bytes:,} per "
                "record; shorten the stored responses"
            )
        if line.strip():
            yield number, line.rstrip("\r")


def _answer(obj: Mapping[str, object], where: str) -> Response | None:
    if all(obj.get(key) is None for key in ("response", "score", "error", "mask", "boxes")):
        return None
    return response_from_json(obj, where=where)


def parse_samples(data: bytes, limits: Limits = Limits()) -> list[SubmittedRecord]:
    """Parse the submitted ``samples.jsonl``: one JSON object per line, typed fields, unique ids."""
    text = decode_text(data, where=SAMPLES_FILE)
    records: list[SubmittedRecord] = []
    seen: dict[str, int] = {}
    for number, line in _lines(text, limits):
        where = f"{SAMPLES_FILE} line {number}"
        obj = loads_strict(line, where=where)
        record = record_from_json(obj, where=where)
        assert isinstance(obj, dict)  # record_from_json refuses anything else
        if record.id in seen:
            raise SpotfakeError(
                f"{where}: duplicate id {record.id[:120]!r} (first on line {seen[record.id]}); keep one record "
                "per sample"
            )
        seen[record.id] = number
        records.append(SubmittedRecord(number, record, frozenset(obj), _answer(obj, where)))
    if not records:
        raise SpotfakeError(f"{SAMPLES_FILE}: no records; submit the samples.jsonl of a finished run")
    return records
