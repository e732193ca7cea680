"""JSON objects -> :class:`Response` / :class:`Record`, with every field type-checked.

The one converter behind ``spotfake score`` (a predictions line), resuming (a ``samples.jsonl`` line) and the
leaderboard's submission check. A wrong type is one :class:`SpotfakeError` line naming ``where`` (file and
line) and the field; keys this version does not know are ignored. A record's ``fields`` object (the per-record
values of plugin metrics) is checked for JSON shape only: which type each field has is the metric's to say.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.types import LABELS, Label, Record, Response


def _object(obj: object, where: str, what: str) -> Mapping[str, object]:
    if not isinstance(obj, dict):
        raise SpotfakeError(f"{where}: expected a JSON object ({what}), got {_json_type(obj)}")
    return obj


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _wrong(where: str, key: str, expected: str, value: object) -> SpotfakeError:
    return SpotfakeError(f"{where}: {key!r} must be {expected}, got {_json_type(value)}")


def _text(obj: Mapping[str, object], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _wrong(where, key, "a string or null", value)


def _number(obj: Mapping[str, object], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _wrong(where, key, "a finite number or null", value)
    return float(value)


def _score(obj: Mapping[str, object], where: str) -> float | None:
    score = _number(obj, "score", where)
    if score is not None and not 0.0 <= score <= 1.0:
        raise SpotfakeError(f"{where}: 'score' must be p(fake) in [0, 1], got {score}")
    return score


def _usage(obj: Mapping[str, object], where: str) -> dict[str, int] | None:
    value = obj.get("usage")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
    ):
        raise _wrong(where, "usage", "an object of token counts (integers >= 0) or null", value)
    return {str(k): int(v) for k, v in value.items()}


def _flag(obj: Mapping[str, object], key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _wrong(where, key, "true, false or null", value)


def _count(obj: Mapping[str, object], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _wrong(where, key, "an integer >= 0 or null", value)
    return value


MAX_BOXES = 1000
"""Boxes one prediction may hold."""


def _mask(obj: Mapping[str, object], where: str) -> dict[str, object] | None:
    """A predicted mask: a COCO RLE object, checked (sizes and run totals) but not decoded."""
    from spotfake.harness.regions.rle import RleError, check_rle

    value = obj.get("mask")
    if value is None:
        return None
    try:
        check_rle(value)
    except RleError as exc:
        raise SpotfakeError(f"{where}: 'mask': {exc}") from None
    assert isinstance(value, dict)
    return {"size": list(value["size"]), "counts": value["counts"]}


def _boxes(obj: Mapping[str, object], where: str) -> list[list[float]] | None:
    """Predicted boxes: a list (at most :data:`MAX_BOXES`) of ``[x0, y0, x1, y1]`` finite numbers."""
    value = obj.get("boxes")
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and len(value) <= MAX_BOXES
        and all(isinstance(b, list) and len(b) == 4 and all(_finite(v) for v in b) for b in value)
    )
    if not ok or not isinstance(value, list):
        raise _wrong(
            where, "boxes", f"a list of at most {MAX_BOXES} [x0, y0, x1, y1] boxes of numbers", value
        )
    return [[float(v) for v in box] for box in value]


def response_from_json(obj: object, *, where: str) -> Response:
    """A model's answer from ``{"response"?, "score"?, "error"?, "latency_s"?, "usage"?, "finish_reason"?,
    "mask"?, "boxes"?}``.

    ``response`` is the text answer, ``score`` p(fake) in [0, 1], ``mask`` a COCO RLE object and ``boxes``
    ``[x0, y0, x1, y1]`` pixel boxes (a localisation task's prediction); other keys (``id``...) are the
    caller's.
    """
    data = _object(obj, where, "one prediction")
    latency = _number(data, "latency_s", where)
    if latency is not None and latency < 0:
        raise SpotfakeError(f"{where}: 'latency_s' must be >= 0, got {latency}")
    return Response(
        text=_text(data, "response", where),
        score=_score(data, where),
        error=_text(data, "error", where),
        latency_s=latency,
        usage=_usage(data, where),
        finish_reason=_text(data, "finish_reason", where),
        mask=_mask(data, where),
        boxes=_boxes(data, where),
    )


def record_id(obj: Mapping[str, object], where: str) -> str:
    """The non-empty string ``id`` of a prediction or record."""
    sid = obj.get("id")
    if not isinstance(sid, str) or not sid:
        raise SpotfakeError(f"{where}: needs a non-empty string 'id', got {_json_type(sid)}")
    return sid


FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""What a per-record metric field may be called (:mod:`harness.metrics.record_fields`)."""


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _field_value(value: object) -> object:
    """One metric field value as stored: null, a boolean, a string, a finite number or an array of them."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if _finite(value):
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, list) and all(_finite(v) for v in value):
        return [float(v) for v in value]
    raise ValueError(_json_type(value))


def _fields(obj: Mapping[str, object], where: str) -> dict[str, object]:
    """The record's ``fields`` object (plugin metrics' per-record values); absent in older files."""
    value = obj.get("fields")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong(where, "fields", "an object of metric field values", value)
    out: dict[str, object] = {}
    for name, item in value.items():
        if not FIELD_NAME.fullmatch(name):
            raise SpotfakeError(
                f"{where}: 'fields' key {name[:80]!r} is not a metric field name ([a-z][a-z0-9_]*)"
            )
        try:
            out[name] = _field_value(item)
        except ValueError:
            raise _wrong(
                where,
                f"fields.{name}",
                "null, a boolean, a string, a finite number or an array of numbers",
                item,
            ) from None
    return out


def record_from_json(obj: object, *, where: str) -> Record:
    """One ``samples.jsonl`` line as a :class:`Record`; every field is checked against its type."""
    data = _object(obj, where, "one record")
    sid = record_id(data, where)
    where = f"{where} (sample {sid!r})"
    label = data.get("label")
    if label is not None and label not in LABELS:
        raise SpotfakeError(f"{where}: 'label' must be 'real', 'fake' or null, got {label!r}"[:300])
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _wrong(where, "metadata", "an object of strings", metadata)
    correct = data.get("correct")
    if correct is not None and not isinstance(correct, bool):
        raise _wrong(where, "correct", "true, false or null", correct)
    bleu = data.get("bleu_stats")
    if bleu is not None and not (isinstance(bleu, list) and all(_finite(v) for v in bleu)):
        raise _wrong(where, "bleu_stats", "an array of numbers or null", bleu)
    checked_label: Label | None = "real" if label == "real" else "fake" if label == "fake" else None
    return Record(
        id=sid,
        label=checked_label,
        category=_text(data, "category", where),
        metadata={str(k): v for k, v in metadata.items()},
        answer=_text(data, "answer", where),
        response=_text(data, "response", where),
        score=_score(data, where),
        verdict=_text(data, "verdict", where),
        correct=correct,
        rouge_l=_number(data, "rouge_l", where),
        css=_number(data, "css", where),
        bleu_stats=None if bleu is None else [float(v) for v in bleu],
        error=_text(data, "error", where),
        latency_s=_number(data, "latency_s", where),
        usage=_usage(data, where),
        finish_reason=_text(data, "finish_reason", where),
        truncated=_flag(data, "truncated", where),
        reasoning_words=_count(data, "reasoning_words", where),
        run_key=_text(data, "run_key", where),
        mask=_mask(data, where),
        boxes=_boxes(data, where),
        fields=_fields(data, where),
    )
