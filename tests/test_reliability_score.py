"""``spotfake score`` on hostile predictions files: exit 2 and one line naming the file, or a clean result."""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from pathlib import Path

import pytest
from conftest import TOY_TASK
from hypothesis import given, settings
from hypothesis import strategies as st

from spotfake.harness.cli import main

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=120)


def score(capsys: pytest.CaptureFixture[str], preds: Path, out: Path, *extra: str) -> tuple[int, str]:
    code = main(
        [
            "score",
            "--task",
            str(TOY_TASK),
            "--predictions",
            str(preds),
            "--output-dir",
            str(out),
            "--bootstrap",
            "0",
            *extra,
        ]
    )
    _, err = capsys.readouterr()
    return code, err


HOSTILE: list[tuple[str, bytes, str]] = [
    ("binary", bytes(range(256)) * 8, "binary data"),
    ("utf16-bom", codecs.BOM_UTF16_LE + '{"id": "s00000"}\n'.encode("utf-16-le"), "neither"),
    ("latin1", '{"id": "s00000", "response": "fausse é"}\n'.encode("latin-1"), "not UTF-8 text"),
    ("deep", b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested deeper than"),
    ("bigint", b'{"id": "s00000", "score": ' + b"1" * 4300 + b"}\n", "4300 digits"),
    ("surrogate", b'{"id": "s00000", "response": "\\udc80"}\n', "lone UTF-16 surrogate"),
    ("empty", b"", "no predictions"),
    ("blank", b"\n \n", "no predictions"),
    ("duplicate-key", b'{"id": "s00000", "score": 0.1, "score": 0.9}\n', "duplicate key 'score'"),
    ("huge-line", b'{"id": "s00000", "response": "' + b"x" * (50 * 2**20) + b'"}\n', "longer than"),
    ("wrong-type", b'{"id": "s00000", "response": 5}\n', "'response' must be a string"),
    ("id-number", b'{"id": 7, "score": 0.5}\n', "non-empty string 'id'"),
]


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_predictions_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    preds = tmp_path / f"{name}.jsonl"
    preds.write_bytes(data)
    code, err = score(capsys, preds, tmp_path / "out")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err and str(preds) in err
    assert not list((tmp_path / "out").rglob("results.json"))


def test_a_utf16_file_with_bom_scores_like_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = '{"id": "s00000", "response": "real"}\n{"id": "s00001", "score": 0.9}\n'
    plain, wide = tmp_path / "plain.jsonl", tmp_path / "wide.jsonl"
    plain.write_text(text, encoding="utf-8")
    wide.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert score(capsys, plain, tmp_path / "a")[0] == 0
    assert score(capsys, wide, tmp_path / "b")[0] == 0
    first = json.loads((tmp_path / "a" / "plain" / "toy" / "results.json").read_text())["metrics"]
    second = json.loads((tmp_path / "b" / "wide" / "toy" / "results.json").read_text())["metrics"]
    assert first == second and first["n_missing"] == 18


def test_directory_and_fifo_as_predictions(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = score(capsys, tmp_path, tmp_path / "out")
    assert code == 2 and "is a directory" in err
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    code, err = score(capsys, fifo, tmp_path / "out")
    assert code == 2 and "FIFO" in err and str(fifo) in err


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
PREDICTION = st.fixed_dictionaries(
    {"id": st.sampled_from(["s00000", "s00001", "s00002", "nope"]) | JSON},
    optional={"response": JSON, "score": JSON, "error": JSON, "usage": JSON, "latency_s": JSON},
)


def _fuzz_once(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "fuzz.jsonl"
        preds.write_bytes(data)
        from contextlib import redirect_stderr, redirect_stdout
        from io import StringIO

        err = StringIO()
        with redirect_stderr(err), redirect_stdout(StringIO()):
            code = main(
                ["score", "--task", str(TOY_TASK), "--predictions", str(preds)]
                + ["--output-dir", str(Path(tmp) / "out"), "--bootstrap", "0"]
            )
        text = err.getvalue()
        assert "Traceback" not in text
        if code == 0:
            assert (Path(tmp) / "out" / "fuzz" / "toy" / "results.json").is_file()
        else:
            assert code == 2 and len(text.strip().splitlines()) == 1, text


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_never_traceback(data: bytes) -> None:
    _fuzz_once(data)


@FUZZ
@given(st.lists(PREDICTION | JSON, min_size=0, max_size=4))
def test_fuzz_random_json_shapes_never_traceback(rows: list[object]) -> None:
    lines = []
    for row in rows:
        try:
            lines.append(json.dumps(row, allow_nan=True))
        except ValueError:  # a float key the json module cannot write
            continue
    _fuzz_once(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
