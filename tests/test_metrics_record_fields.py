"""Per-record metric fields: declared by metrics, filled once per name with checked types, stored under a
record's ``fields`` object (absent when empty), read back from old and new samples.jsonl lines."""

from __future__ import annotations

import json
from collections.abc import Iterator

import jsonschema
import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import (
    METRICS,
    MetricDef,
    RecordField,
    mean_of_field,
    per_record,
    register_metric,
    score_records,
    summarize,
)
from spotfake.harness.record_json import record_from_json
from spotfake.harness.results import SCHEMA_PATH
from spotfake.harness.types import Record

CALLS: list[str] = []


def _words(context):  # type: ignore[no-untyped-def]
    CALLS.append("words")
    return [None if not t else float(len(t.split())) for t in context.texts]


WORDS = RecordField("words", "number", _words, "words in the answer")


def records() -> list[Record]:
    texts = ["fake, the hands", "real", None, "fake fake fake fake"]
    return [
        Record(id=f"s{i}", label="fake", response=t, verdict="fake" if t else None)
        for i, t in enumerate(texts)
    ]


@pytest.fixture
def plugged() -> Iterator[None]:
    """Two plugin metrics sharing the ``words`` field (removed again after the test)."""
    for name, label in (("mean_words", "Words"), ("mean_words_again", "Words 2")):
        register_metric(
            MetricDef(name, label, mean_of_field("words"), needs="verdicts", record_fields=(WORDS,))
        )
    yield
    for name in ("mean_words", "mean_words_again"):
        METRICS._entries.pop(name)


def test_a_declared_field_is_filled_once_stored_and_summarised(plugged: None) -> None:
    recs = records()
    CALLS.clear()
    score_records(recs, {}, answer_kind="verdict", metrics=["acc", "mean_words", "mean_words_again"])
    assert CALLS == ["words"]  # two metrics, one field: computed once
    assert [r.fields for r in recs] == [{"words": 3.0}, {"words": 1.0}, {"words": None}, {"words": 4.0}]
    assert recs[0].metric_field("words") == 3.0 and recs[0].metric_field("rouge_l") is None
    summary = summarize(recs, answer_kind="verdict", metrics=["mean_words"], n_bootstrap=20)
    assert summary.metrics["mean_words"] == pytest.approx(8 / 3)  # the record without a value is left out
    assert "mean_words" in summary.ci
    score_records(recs, {}, answer_kind="verdict", metrics=["acc"])  # not requested: cleared
    assert all(r.fields == {} for r in recs)


def test_fields_round_trip_through_json_and_old_lines_still_read(plugged: None) -> None:
    recs = records()
    score_records(recs, {}, answer_kind="verdict", metrics=["mean_words"])
    line = json.loads(json.dumps(recs[0].to_json()))
    assert line["fields"] == {"words": 3.0}
    assert record_from_json(line, where="samples.jsonl line 1") == recs[0]
    plain = Record(id="x", label="real").to_json()
    assert "fields" not in plain  # records without plugin fields are written as before
    old = {"id": "x", "label": "real", "rouge_l": 0.5, "css": None, "bleu_stats": None}
    assert record_from_json(old, where="old line").fields == {}
    schema = json.loads((SCHEMA_PATH.parent / "record.schema.json").read_text())
    jsonschema.validate(line, schema)
    jsonschema.validate(
        {**line, "fields": {"counts": [1, 2.5], "flag": True, "tag": "a", "none": None}}, schema
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**line, "fields": {"Bad Name": 1}}, schema)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([], "'fields' must be an object"),
        ({"Bad": 1}, "not a metric field name"),
        ({"x": float("nan")}, "'fields.x' must be null, a boolean"),
        ({"x": {"a": 1}}, "'fields.x' must be null, a boolean"),
        ({"x": [1, "a"]}, "'fields.x' must be null, a boolean"),
    ],
)
def test_a_malformed_fields_object_is_one_line_naming_the_sample(fields: object, message: str) -> None:
    with pytest.raises(SpotfakeError, match=message) as caught:
        record_from_json({"id": "s1", "label": "fake", "fields": fields}, where="samples.jsonl line 3")
    assert "samples.jsonl line 3 (sample 's1')" in str(caught.value)


def test_a_compute_that_returns_the_wrong_type_or_count_is_a_clear_error() -> None:
    wrong_type = RecordField("wrong", "number", per_record(lambda rec, refs: "three"))
    wrong_count = RecordField("short", "numbers", lambda context: [[1.0]])
    for spec, message in (
        (wrong_type, r"'wrong' \(number\) of sample 's0'"),
        (wrong_count, "1 values for 4"),
    ):
        register_metric(MetricDef("broken", "B", mean_of_field(spec.name), record_fields=(spec,)))
        try:
            with pytest.raises(SpotfakeError, match=message):
                score_records(records(), {}, answer_kind="verdict", metrics=["broken"])
        finally:
            METRICS._entries.pop("broken")


def test_field_names_and_types_are_checked_when_a_metric_is_registered(plugged: None) -> None:
    evaluate = mean_of_field("x")
    bad = [
        (RecordField("score", "number", _words), "is a record attribute"),
        (RecordField("Words", "number", _words), "must match"),
        (RecordField("w", "integer", _words), "has type 'integer'"),  # type: ignore[arg-type]
        (RecordField("words", "string", _words), "differs from the one metric 'mean_words' declares"),
    ]
    for spec, message in bad:
        with pytest.raises(SpotfakeError, match=message):
            register_metric(MetricDef("bad_metric", "Bad", evaluate, record_fields=(spec,)))
    with pytest.raises(SpotfakeError, match="per_sample 'words' is not a Record attribute"):
        register_metric(MetricDef("bad_metric", "Bad", evaluate, per_sample="words"))
    assert "bad_metric" not in METRICS


def test_the_builtin_explanation_metrics_declare_the_record_columns() -> None:
    from spotfake.harness.metrics import metric_def

    assert metric_def("rouge_l").uses == metric_def("rouge_l_gated").uses == ("rouge_l",)
    assert metric_def("css").uses == ("css",) and metric_def("bleu4").uses == ("bleu_stats",)
    assert metric_def("rouge_l").record_fields[0] is metric_def("rouge_l_gated").record_fields[0]
