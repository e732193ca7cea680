"""Saved predictions (JSONL rows ``{"id", "response"?, "score"?, "mask"?, "boxes"?}``) read into responses."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from spotfake.harness.types import Response


def _mask_file(row: dict[str, object], base_dir: Path | None, where: str) -> dict[str, object]:
    """``row`` with a ``mask`` given as an image path (absolute, or relative to ``base_dir``) replaced by
    its COCO RLE at the stated threshold (:mod:`harness.regions.masks`), as records store it."""
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.regions.masks import read_mask
    from spotfake.harness.regions.rle import encode

    value = row.get("mask")
    if not isinstance(value, str):
        return row
    if not value.strip():
        raise SpotfakeError(f"{where}: 'mask' is an empty path; give a mask image or a COCO RLE object")
    path = Path(value)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return {**row, "mask": encode(read_mask(path, sample_id=str(row.get("id")), what=where))}


def responses_from_predictions(
    rows: Iterable[tuple[int, object]], source: str, base_dir: Path | None = None
) -> dict[str, Response]:
    """Turn JSONL prediction rows ``{"id", "response"?, "score"?, "mask"?, "boxes"?}`` into responses.

    Every field is type-checked (:func:`harness.record_json.response_from_json`); duplicate ids, rows
    without an answer and a file without any row are one-line errors naming ``source`` (and the line).
    A ``mask`` may be a COCO RLE object or the path of a mask image, read here (a relative path from
    ``base_dir``, the predictions file's folder for ``spotfake score``) and stored as RLE.
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
        row = _mask_file(row, base_dir, f"{where} (sample {sid!r})")
        response = response_from_json(row, where=f"{where} (sample {sid!r})")
        answered = (response.text, response.score, response.error, response.mask, response.boxes)
        if all(part is None for part in answered):
            raise SpotfakeError(
                f"{where}: sample {sid!r} has neither 'response' nor 'score' (nor 'mask' or 'boxes')"
            )
        out[sid] = response
    if not out:
        raise SpotfakeError(f"{source}: no predictions (an empty file); write one JSON object per line")
    return out
