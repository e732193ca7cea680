"""The results file (``results.json``, schema v1): building it, validating it, reading run folders.

The contract is the JSON Schema in ``harness/schema/results.schema.json`` (every key documented there),
mirrored one to one by the TypedDicts of :mod:`harness.results_contract`; the leaderboard validates
submissions with the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_json, iter_jsonl, read_json
from spotfake.harness.results_contract import Results
from spotfake.harness.types import Record

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "results.schema.json"
RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"


@dataclass
class ModelInfo:
    """Who answered: registry name, kind, the arguments given, the settings used, a fingerprint, and its
    parameter count with a note on where the count comes from (never part of the run key)."""

    name: str
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    parameters: int | None = None
    parameters_note: str = ""


@lru_cache(maxsize=1)
def load_schema() -> dict[str, object]:
    """The results JSON Schema as a dict."""
    schema: dict[str, object] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    """One validator for the process (building it per file costs a quarter of a board's load time)."""
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())


def validate_results(data: object, source: str = "results.json") -> None:
    """Raise SpotfakeError with the first schema violation (path and message), naming ``source``."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise SpotfakeError(
            f"{source}: does not match results schema v{SCHEMA_VERSION} at {where}: {err.message}"
        )


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string (seconds)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def write_records(path: Path, records: list[Record]) -> None:
    """Atomically write records as JSONL, one ``Record.to_json()`` per line."""
    from spotfake.harness.io import atomic_write_text

    lines = [json.dumps(r.to_json(), ensure_ascii=False, allow_nan=False) for r in records]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def read_records(path: Path) -> list[Record]:
    """Read a samples.jsonl file strictly: a malformed line or a wrong-typed field is an error naming the
    file and line (:mod:`harness.jsonio`, :func:`harness.record_json.record_from_json`)."""
    from spotfake.harness.record_json import record_from_json

    return [
        record_from_json(obj, where=f"{path} line {number}")
        for number, obj in iter_jsonl(path, what="records file")
    ]


def write_results(folder: Path, results: Results) -> Path:
    """Validate and atomically write ``results.json`` into ``folder``."""
    validate_results(results, source=str(folder / RESULTS_FILE))
    path = folder / RESULTS_FILE
    atomic_write_json(path, results)
    return path


def read_results(path: Path) -> Results:
    """Read and validate one results.json."""
    data = read_json(path)
    validate_results(data, source=str(path))
    return cast(Results, data)
