"""Hypothesis fuzzing of judge replies: whatever an endpoint sends, the grade entry is a valid grade or a
counted judge failure that can be written (UTF-8 JSON, no NaN) and holds no secret; never a traceback."""

from __future__ import annotations

import json
from typing import Any

from fixtures.openai_server import completion
from hypothesis import given, settings
from hypothesis import strategies as st

from spotfake.harness.chat_client.completions import read_answer
from spotfake.harness.judge.grader import reply_entry

SECRET = "sk-test-Judge0123456789secret"
ANY_CHAR = st.characters(blacklist_categories=())  # surrogates included
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(ANY_CHAR, max_size=20)
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
RATIONALES = VALUES | st.builds(
    lambda a, b: f"{a}{SECRET}{b}", st.text(ANY_CHAR, max_size=10), st.text(max_size=10)
)
GRADES = st.fixed_dictionaries(
    {"score": st.integers(min_value=-1, max_value=7) | VALUES, "rationale": RATIONALES},
    optional={"support": VALUES | st.integers(0, 6), "grounding": st.integers(0, 6), "extra": VALUES},
)


def _content(grade: dict[str, Any], escape_key: bool, ascii_only: bool, prefix: str) -> str:
    text = json.dumps(grade, ensure_ascii=ascii_only)  # NaN and Infinity written as JSON allows no
    if escape_key:
        text = text.replace("sk-", "\\u0073k-")  # the key as a JSON escape: only decoding shows it
    return prefix + text


CONTENTS = (
    st.builds(_content, GRADES, st.booleans(), st.booleans(), st.sampled_from(["", " ", "```json\n", "x"]))
    | st.text(ANY_CHAR, max_size=200)
    | st.integers(min_value=1, max_value=50_000).map(lambda n: "[" * n + "]" * n)
    | st.integers(min_value=1, max_value=50_000).map(lambda n: '{"score": 5, "rationale": ' + "[" * n)
)
BODIES = (
    CONTENTS.map(lambda c: json.dumps(completion(c)).encode("utf-8"))
    | st.binary(max_size=300)
    | VALUES.map(lambda v: json.dumps({"choices": [{"message": {"content": v}}]}).encode("utf-8"))
)


def _check(entry: dict[str, Any]) -> None:
    assert entry["status"] in ("ok", "judge_failure")
    written = json.dumps(entry, ensure_ascii=False, allow_nan=False).encode("utf-8")  # cache and judge.jsonl
    assert SECRET.encode() not in written
    if entry["status"] == "ok":
        assert entry["score"] in (1, 2, 3, 4, 5) and entry["value"] == (entry["score"] - 1) / 4
        assert isinstance(entry["rationale"], str) and len(entry["rationale"]) <= 2003


@settings(max_examples=400, deadline=None)
@given(body=BODIES)
def test_any_reply_body_is_a_grade_or_a_counted_failure(body: bytes) -> None:
    answer = read_answer(body, [SECRET])
    if answer.text is not None:
        _check(reply_entry(answer.text, [SECRET]))


@settings(max_examples=400, deadline=None)
@given(text=CONTENTS)
def test_any_reply_text_is_a_grade_or_a_counted_failure(text: str) -> None:
    _check(reply_entry(text, [SECRET]))
