"""The strict JSON reader and the record converters: every hostile input is one line, never a traceback."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import (
    MAX_DEPTH,
    describe_json_error,
    iter_json_lines,
    loads_strict,
    read_json_strict,
)
from spotfake.harness.record_json import record_from_json, response_from_json


def lines_of(path: Path) -> list[tuple[int, object]]:
    return list(iter_json_lines(path, what="predictions file"))


def refused(path: Path) -> str:
    with pytest.raises(SpotfakeError) as info:
        lines_of(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_utf8_with_and_without_bom_and_utf16_with_bom_are_read(tmp_path: Path) -> None:
    text = '{"id": "é", "score": 0.25}\n\n{"id": "b", "response": "fake"}\n'
    expected = [(1, {"id": "é", "score": 0.25}), (3, {"id": "b", "response": "fake"})]
    for name, data in [
        ("plain", text.encode("utf-8")),
        ("bom8", codecs.BOM_UTF8 + text.encode("utf-8")),
        ("bom16le", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        ("bom16be", codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
    ]:
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(data)
        assert lines_of(path) == expected, name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"id": "é"}\n'.encode("latin-1"), "not UTF-8 text"),
        (bytes(range(256)), "binary data"),
        (b"[" * 100_000 + b"]" * 100_000, f"deeper than {MAX_DEPTH}"),
        (b"[" * 70 + b"]" * 70, f"deeper than {MAX_DEPTH}"),
        (b'{"score": ' + b"9" * 4300 + b"}", "4300 digits"),
        (b'{"id": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"id": "a", "id": "b"}', "duplicate key 'id'"),
        (b'{"score": NaN}', "NaN is not a JSON number"),
        (b'{"score": 1e400}', "does not fit"),
        (b'{"id": "a"}\n{"id": \n', "line 2: malformed JSON at column 8"),
    ],
)
def test_hostile_lines_are_one_line_errors(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    assert message in refused(path)


def test_a_surrogate_pair_is_text(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "\\ud83d\\ude00"}\n')
    assert lines_of(path) == [(1, {"id": "\U0001f600"})]


def test_directories_and_fifos_are_refused_by_name_without_blocking(tmp_path: Path) -> None:
    assert "is a directory" in refused(tmp_path)
    fifo = tmp_path / "p.jsonl"
    os.mkfifo(fifo)
    assert "FIFO" in refused(fifo)
    assert "not found" in refused(tmp_path / "absent.jsonl")


def test_a_huge_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"response": "' + b"x" * 5000 + b'"}\n')
    with pytest.raises(SpotfakeError, match="line 2: longer than the limit of 1,000 bytes"):
        list(iter_json_lines(path, what="predictions file", max_line_bytes=1000))
    exact = tmp_path / "exact.jsonl"
    exact.write_bytes(b'{"a": "' + b"x" * 991 + b'"}\n')  # 1000 bytes and its newline
    assert len(list(iter_json_lines(exact, what="f", max_line_bytes=1000))) == 1


def test_read_json_strict_limits_size_and_refuses_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"a": [1, 2, {"b": null}]}\n')
    assert read_json_strict(path, what="results file") == {"a": [1, 2, {"b": None}]}
    with pytest.raises(SpotfakeError, match="over the size limit of 10 bytes"):
        read_json_strict(path, what="results file", max_bytes=10)
    path.write_text("  \n")
    with pytest.raises(SpotfakeError, match="is empty"):
        read_json_strict(path, what="results file")
    path.write_text('{\n  "a": 1,\n  "b": \n}')
    with pytest.raises(SpotfakeError, match=r"results file .*r\.json: malformed JSON at line 4 column 1"):
        read_json_strict(path, what="results file")


def test_describe_json_error_is_the_one_wording() -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads('{"a":\n  ]')
    assert describe_json_error(info.value, "x.json") == (
        "x.json: malformed JSON at line 2 column 3: Expecting value"
    )
    assert loads_strict(b'{"a": [1]}', where="w") == {"a": [1]}


def test_response_from_json_checks_every_field() -> None:
    ok = response_from_json(
        {"id": "x", "response": "fake", "score": 1, "latency_s": 0.5, "usage": {"completion_tokens": 3}},
        where="f line 1",
    )
    assert (ok.text, ok.score, ok.latency_s, ok.usage) == ("fake", 1.0, 0.5, {"completion_tokens": 3})
    for bad, message in [
        ([], "expected a JSON object"),
        ({"response": 5}, "'response' must be a string or null, got a number"),
        ({"score": "high"}, "'score' must be a finite number or null, got a string"),
        ({"score": True}, "'score' must be a finite number or null, got a boolean"),
        ({"score": 1.5}, "p(fake) in [0, 1]"),
        ({"error": {"a": 1}}, "'error' must be a string or null"),
        ({"latency_s": -1}, "'latency_s' must be >= 0"),
        ({"usage": {"t": "3"}}, "'usage' must be an object of token counts"),
    ]:
        with pytest.raises(SpotfakeError, match="^f line 7: ") as info:
            response_from_json(bad, where="f line 7")
        assert message in str(info.value)


def test_record_from_json_round_trips_and_checks_types() -> None:
    good = {
        "id": "a",
        "label": "fake",
        "category": "c",
        "metadata": {"generator": "dcgan"},
        "response": "fake",
        "score": 0.9,
        "verdict": "fake",
        "correct": True,
        "rouge_l": 0.5,
        "bleu_stats": [1, 2.5],
        "usage": {"completion_tokens": 2},
        "run_key": "k",
        "unknown_key": "ignored",
    }
    record = record_from_json(good, where="s line 1")
    assert record.to_json() == {
        **{k: v for k, v in good.items() if k != "unknown_key"},
        **{"answer": None, "css": None, "error": None, "latency_s": None, "bleu_stats": [1.0, 2.5]},
        **{"finish_reason": None, "truncated": None, "reasoning_words": None},  # reasoning answers' fields
    }
    assert record_from_json({"id": "b"}, where="s").label is None
    cases: list[tuple[dict[str, object], str]] = [
        ({"label": "maybe"}, "'label' must be 'real', 'fake' or null"),
        ({"metadata": None}, "'metadata' must be an object of strings, got null"),
        ({"response": 5}, "'response' must be a string or null"),
        ({"score": "high"}, "'score' must be a finite number"),
        ({"correct": 1}, "'correct' must be true, false or null"),
        ({"bleu_stats": ["x"]}, "'bleu_stats' must be an array of numbers"),
    ]
    for bad, message in cases:
        with pytest.raises(SpotfakeError, match=r"^samples\.jsonl line 3 \(sample 'a'\): ") as info:
            record_from_json({"id": "a", **bad}, where="samples.jsonl line 3")
        assert message in str(info.value)
    with pytest.raises(SpotfakeError, match="needs a non-empty string 'id', got a number"):
        record_from_json({"id": 5}, where="s")
