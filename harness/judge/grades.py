"""``judge.jsonl``: the per-sample grades of ``spotfake judge``, each tied to the answer text it graded.

One line per sample with an explanation: ``{"id", "answer_sha256", "judge", "score", "status",
"rationale", "criteria", "error"}``. ``answer_sha256`` is the sha256 of the response text that was graded,
so a grade can be checked against the answer now in ``samples.jsonl``: after ``spotfake score --replace``
(or any rerun that changes an answer) the grade of the old text no longer matches and is ignored by every
reader (:func:`current_grades`), and the next ``spotfake judge`` rewrites the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spotfake.harness.judge.cache import sha256_text
from spotfake.harness.redaction import clean_text

JUDGE_FILE = "judge.jsonl"


def answer_sha256(response: str | None) -> str:
    """sha256 (hex) of an answer's text as graded (the response, lone surrogates replaced)."""
    return sha256_text(clean_text(response or ""))


def grade_line(sample_id: str, response: str, entry: Mapping[str, Any]) -> str:
    """The ``judge.jsonl`` line (without newline) of one graded answer; texts in ``entry`` are already
    safe (:func:`harness.judge.grader.safe_entry`)."""
    ok = entry.get("status") == "ok"
    line = {
        "id": sample_id,
        "answer_sha256": answer_sha256(response),
        "judge": float(entry["value"]) if ok else None,
        "score": entry.get("score") if ok else None,
        "status": entry.get("status"),
        "rationale": entry.get("rationale"),
        "criteria": entry.get("criteria"),
        "error": entry.get("error"),
    }
    return json.dumps(line, ensure_ascii=False, allow_nan=False)


def read_grades(folder: Path) -> dict[str, dict[str, Any]]:
    """The lines of ``folder/judge.jsonl`` by sample id (empty without the file); a malformed file is a
    one-line :class:`SpotfakeError` naming it."""
    from spotfake.harness.jsonio import iter_json_lines

    path = folder / JUDGE_FILE
    if not path.is_file():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for _, obj in iter_json_lines(path, what="judge file"):
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            out[obj["id"]] = obj
    return out


def current_grades(folder: Path, responses: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    """The grades of ``folder`` that graded the answers now recorded (``responses``: sample id ->
    response text); a grade of another text, or without ``answer_sha256``, is left out."""
    kept = {}
    for sample_id, line in read_grades(folder).items():
        if sample_id in responses and line.get("answer_sha256") == answer_sha256(responses[sample_id]):
            kept[sample_id] = line
    return kept
