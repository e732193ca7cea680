"""Saved predictions (JSONL rows ``{"id", "response"?, "score"?}``) read into responses."""

from __future__ import annotations

from collections.abc import Iterable

from spotfake.harness.types import Response


def responses_from_predictions(rows: Iterable[tuple[int, object]], source: str) -> dict[str, Response]:
    """Turn JSONL prediction rows ``{"id", "response"?, "score"?}`` into responses.

    Every field is type-checked (:func:`harness.record_json.response_from_json`); duplicate ids, rows
    without an answer and a file without any row are one-line errors naming ``source`` (and the line).
    """
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.record_json import record_id, response_from_json

    out: dict[str, Response] = {}
    for line, row in rows:
        where = f"{source} line {line}"
        if not isinstance(row, dict):
            raise SpotfakeError(f"{where}: expected a JSON object {{id, response and/or score}}")
        sid = record_id(row, where)
        if sid in out:
            raise SpotfakeError(f"{where}: duplicate id {sid!r}; keep one prediction per sample")
        response = response_from_json(row, where=f"{where} (sample {sid!r})")
        if response.text is None and response.score is None and response.error is None:
            raise SpotfakeError(f"{where}: sample {sid!r} has neither 'response' nor 'score'")
        out[sid] = response
    if not out:
        raise SpotfakeError(f"{source}: no predictions (an empty file); write one JSON object per line")
    return out
