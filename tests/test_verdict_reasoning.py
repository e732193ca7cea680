"""Reasoning answers: the verdict comes from the answer part, the explanation is the text without its tags,
the reasoning length is recorded and an answer cut by the token limit is counted as truncated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TOY_TASK
from rouge_score import rouge_scorer

from spotfake.harness.cli import main
from spotfake.harness.scoring.reasoning import is_truncated, mark_reasoning
from spotfake.harness.types import Record
from spotfake.harness.verdict import parse_verdict
from spotfake.harness.verdict.reasoning import explanation_text, split_answer

HANDS = "The hands have six fingers and the shadows disagree."
GRAIN = "Sensor noise is uniform and the reflections in the eyes match."

# (answer, verdict, explanation metrics' text, reasoning words or None, open <think>)
REASONING_ANSWERS: list[tuple[str, str | None, str, int | None, bool]] = [
    # Veritas / R1 think + answer tags
    (f"<think>{HANDS}</think><answer>fake</answer>", "fake", f"{HANDS}\nfake", 9, False),
    (f"<think>{GRAIN}</think>\n<answer>real</answer>", "real", f"{GRAIN}\nreal", 11, False),
    (f"<think>\n{HANDS}\n</think>\n\n<answer>\nFake\n</answer>", "fake", f"{HANDS}\nFake", 9, False),
    (f"<THINK>{HANDS}</THINK><ANSWER>fake</ANSWER>", "fake", f"{HANDS}\nfake", 9, False),
    (f"< think >{GRAIN}< /think >< answer >real< / answer >", "real", f"{GRAIN}\nreal", 11, False),
    (
        f"<think>{GRAIN}</think><answer>This is a real image.</answer>",
        "real",
        f"{GRAIN}\nThis is a real image.",
        11,
        False,
    ),
    (
        f"<think>{HANDS}</think><answer>The image is AI-generated.</answer>",
        "fake",
        f"{HANDS}\nThe image is AI-generated.",
        9,
        False,
    ),
    # the reasoning argues both ways: only the answer counts
    (
        "<think>At first glance it looks real, but the text is garbled, so it is fake.</think><answer>fake</answer>",
        "fake",
        "At first glance it looks real, but the text is garbled, so it is fake.\nfake",
        15,
        False,
    ),
    (
        "<think>The sky looks fake at first, yet the grain is natural; it is real.</think><answer>real</answer>",
        "real",
        "The sky looks fake at first, yet the grain is natural; it is real.\nreal",
        14,
        False,
    ),
    ("<think>It could be fake.</think><answer>real</answer>", "real", "It could be fake.\nreal", 4, False),
    # R1 style: the answer follows </think>
    (f"<think>{HANDS}</think>\nThe image is fake.", "fake", f"{HANDS}\nThe image is fake.", 9, False),
    (f"<think>{GRAIN}</think>\n\nAnswer: real", "real", f"{GRAIN}\nAnswer: real", 11, False),
    (f"<think>{GRAIN}</think>**Real**", "real", f"{GRAIN}\n**Real**", 11, False),
    (f"{HANDS}\n</think>\n\nfake", "fake", f"{HANDS}\nfake", 9, False),  # the template opened <think>
    (
        f"\u25c1think\u25b7{HANDS}\u25c1/think\u25b7This image is fake.",
        "fake",
        f"{HANDS}\nThis image is fake.",
        9,
        False,
    ),
    (f"<thinking>{GRAIN}</thinking><answer>real</answer>", "real", f"{GRAIN}\nreal", 11, False),
    (f"<reasoning>{HANDS}</reasoning>\n<answer>fake</answer>", "fake", f"{HANDS}\nfake", 9, False),
    # answer tags alone, or with reasoning outside them
    ("<answer>fake</answer>", "fake", "fake", None, False),
    ("<answer> Real </answer>", "real", "Real", None, False),
    (f"{HANDS} <answer>fake</answer>", "fake", f"{HANDS}\nfake", 9, False),
    (f"<think>{HANDS} <answer>fake</answer>", "fake", f"{HANDS}\nfake", 9, False),  # think never closed
    # boxed answers and special-token markers inside the answer (GLM-4.1V-Thinking style)
    (
        f"<think>{HANDS}</think><answer><|begin_of_box|>fake<|end_of_box|></answer>",
        "fake",
        f"{HANDS}\nfake",
        9,
        False,
    ),
    (f"<think>{GRAIN}</think><answer>\\boxed{{real}}</answer>", "real", f"{GRAIN}\nreal", 11, False),
    # JSON objects, fenced or not, after </think> or alone
    ('{"answer": "fake", "reasoning": "' + HANDS + '"}', "fake", f"{HANDS}\nfake", 9, False),
    ('```json\n{"answer": "real", "explanation": "' + GRAIN + '"}\n```', "real", f"{GRAIN}\nreal", 11, False),
    (
        'Here is my analysis:\n```json\n{"verdict": "Fake", "evidence": ["six fingers", "melted text"]}\n```',
        "fake",
        "six fingers\nmelted text\nFake",
        4,
        False,
    ),
    ('{"Answer": "real"}', "real", "real", None, False),
    (
        f'<think>{HANDS}</think>\n```json\n{{"answer": "fake", "reason": "warped text"}}\n```',
        "fake",
        f"{HANDS}\nwarped text\nfake",
        11,
        False,
    ),
    (
        '{"final_answer": "The image is real.", "rationale": "' + GRAIN + '"}',
        "real",
        f"{GRAIN}\nThe image is real.",
        11,
        False,
    ),
    # several answers: one verdict among them, or none
    (
        f"<think>{HANDS}</think><answer>fake</answer><answer>fake</answer>",
        "fake",
        f"{HANDS}\nfake\nfake",
        9,
        False,
    ),
    (
        f"<think>{HANDS}</think><answer>real</answer><answer>fake</answer>",
        None,
        f"{HANDS}\nreal\nfake",
        9,
        False,
    ),
    # no answer: cut inside the reasoning, an empty answer, an answer that states nothing
    (
        f"<think>{HANDS} On closer inspection the image is fake because",
        None,
        f"{HANDS} On closer inspection the image is fake because",
        17,
        True,
    ),
    ("<think>", None, "", None, True),
    (f"<think>{GRAIN}</think>", None, GRAIN, 11, False),
    (f"<think>{GRAIN}</think><answer></answer>", None, GRAIN, 11, False),
    (f"<think>{GRAIN}</think><answer>fa", None, f"{GRAIN}\nfa", 11, False),  # cut inside the answer
    (f"<think>{GRAIN}</think><answer>I cannot tell.</answer>", None, f"{GRAIN}\nI cannot tell.", 11, False),
    # plain answers are untouched
    (
        "This is a fake image. The hands are wrong.",
        "fake",
        "This is a fake image. The hands are wrong.",
        None,
        False,
    ),
    (
        "Answer: real\nExplanation: natural grain.",
        "real",
        "Answer: real\nExplanation: natural grain.",
        None,
        False,
    ),
    (
        "This is a fake image. A <cat> sits on a {sofa}.",
        "fake",
        "This is a fake image. A <cat> sits on a {sofa}.",
        None,
        False,
    ),
    (
        'This is a real image. Its EXIF has {"camera": "Canon"}.',
        "real",
        'This is a real image. Its EXIF has {"camera": "Canon"}.',
        None,
        False,
    ),
]


def test_the_reasoning_test_set_is_large_and_varied() -> None:
    assert len(REASONING_ANSWERS) >= 30
    forms = {split_answer(answer).form for answer, *_ in REASONING_ANSWERS}
    assert forms == {"tags", "json", "plain"}


@pytest.mark.parametrize(("answer", "verdict", "explanation", "words", "open_think"), REASONING_ANSWERS)
def test_reasoning_answers_read_right(
    answer: str, verdict: str | None, explanation: str, words: int | None, open_think: bool
) -> None:
    parts = split_answer(answer)
    assert parse_verdict(answer) == verdict
    assert explanation_text(answer) == explanation
    assert parts.reasoning_words == words
    assert parts.open_think is open_think


@pytest.mark.parametrize(
    ("answer", "question", "kind", "expected"),
    [
        (
            "<think>The fingers merge.</think><answer>Yes</answer>",
            "Is this image generated by an AI model?",
            "yesno",
            "fake",
        ),
        (
            "<think>The grain is natural.</think><answer>No</answer>",
            "Is this image generated by an AI model?",
            "yesno",
            "real",
        ),
        (
            "<think>Image A has warped text.</think><answer>B</answer>",
            "Which image is real, A or B?",
            "choice",
            "B",
        ),
        ('{"answer": "A", "reasoning": "B has melted hands"}', "Which image is real, A or B?", "choice", "A"),
        ("<think>Both look fine, but B is AI-generated.</think>\n<answer>(A)</answer>", None, "choice", "A"),
        ("<think>Maybe A.", None, "choice", None),
    ],
)
def test_reasoning_answers_of_yes_no_and_choice_questions(
    answer: str, question: str | None, kind: str, expected: str | None
) -> None:
    assert parse_verdict(answer, kind=kind, question=question) == expected  # type: ignore[arg-type]


def _record(
    response: str | None, finish: str | None, verdict: str | None = None, error: str | None = None
) -> Record:
    return Record(id="x", label="fake", response=response, finish_reason=finish, verdict=verdict, error=error)


@pytest.mark.parametrize(
    ("response", "finish", "verdict", "truncated"),
    [
        ("<think>The hands are", "length", None, True),  # cut inside the reasoning
        ("<think>The hands are", None, None, True),  # a predictions file without finish reasons
        ("<think>The hands are", "stop", None, False),  # the model ended inside its reasoning: malformed
        ("The image shows a street with", "length", None, True),  # a plain answer cut before its verdict
        ("This is a fake image. The hands are", "length", "fake", False),  # cut after its verdict
        ("<think>ok</think><answer>fake</answer>", "stop", "fake", False),
        ("I cannot tell.", "stop", None, False),  # unparsed, not cut
        ("I cannot tell.", None, None, False),
        (None, None, None, None),  # score-only or missing
    ],
)
def test_truncated_means_cut_by_the_token_limit_before_the_verdict(
    response: str | None, finish: str | None, verdict: str | None, truncated: bool | None
) -> None:
    assert is_truncated(_record(response, finish, verdict)) is truncated


def test_a_failed_answer_is_neither_truncated_nor_reasoned() -> None:
    record = _record("<think>cut", "length", error="CUDA out of memory")
    info = mark_reasoning([record])
    assert record.truncated is None and record.reasoning_words is None
    assert info == {"n_truncated": 0, "reasoning_words": None}


def test_mark_reasoning_summarises_lengths_in_words() -> None:
    records = [
        _record("<think>one two three</think><answer>fake</answer>", "stop", "fake"),
        _record("<think>one two three four five six seven</think>real", "stop", "real"),
        _record("<think>a b c d e", "length"),
        _record("plain answer, fake", "stop", "fake"),
    ]
    info = mark_reasoning(records)
    assert [r.reasoning_words for r in records] == [3, 7, 5, None]
    assert [r.truncated for r in records] == [False, False, True, False]
    assert info["n_truncated"] == 1
    assert info["reasoning_words"] == {
        "unit": "words (whitespace-separated) of the reasoning part",
        "n": 3,
        "mean": 5.0,
        "median": 5.0,
        "max": 7,
    }


def test_spotfake_score_reads_reasoning_predictions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Toy task (20 samples, references "This is a <label> image. Sample <i> shows ..."): reasoning answers
    through `spotfake score`, with verdicts, flags, counts and ROUGE-L on the explanation checked."""
    rows = []
    expected_verdicts: dict[str, str | None] = {}
    expected_explanations: dict[str, str] = {}
    for i in range(20):
        sid, label = f"s{i:05d}", "real" if i % 3 == 0 else "fake"
        detail = "smooth skin" if label == "fake" else "natural grain"
        reasoning = f"Sample {i} shows {detail}."
        if i < 12:  # think + answer
            row = {
                "id": sid,
                "response": f"<think>{reasoning}</think><answer>{label}</answer>",
                "finish_reason": "stop",
            }
            expected_verdicts[sid], expected_explanations[sid] = label, f"{reasoning}\n{label}"
        elif i < 15:  # cut inside <think> by the token limit
            row = {"id": sid, "response": f"<think>{reasoning} So it", "finish_reason": "length"}
            expected_verdicts[sid], expected_explanations[sid] = None, f"{reasoning} So it"
        elif i < 17:  # JSON in a fence
            row = {
                "id": sid,
                "response": f'```json\n{{"answer": "{label}", "reasoning": "{reasoning}"}}\n```',
            }
            expected_verdicts[sid], expected_explanations[sid] = label, f"{reasoning}\n{label}"
        else:  # plain answers
            text = f"This is a {label} image."
            row = {"id": sid, "response": text}
            expected_verdicts[sid], expected_explanations[sid] = label, text
        rows.append(row)
    preds = tmp_path / "reasoner.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(
        [
            "score",
            "--task",
            str(TOY_TASK),
            "--predictions",
            str(preds),
            "--bootstrap",
            "0",
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )
    capsys.readouterr()
    assert code == 0
    folder = tmp_path / "out" / "reasoner" / "toy"
    results = json.loads((folder / "results.json").read_text())
    records = {r["id"]: r for r in map(json.loads, (folder / "samples.jsonl").read_text().splitlines())}
    assert {sid: r["verdict"] for sid, r in records.items()} == expected_verdicts
    assert [sid for sid, r in records.items() if r["truncated"]] == ["s00012", "s00013", "s00014"]
    assert results["scoring"]["n_truncated"] == 3
    words = {sid: r["reasoning_words"] for sid, r in records.items()}
    assert words["s00000"] == 5 and words["s00012"] == 7 and words["s00015"] == 5 and words["s00019"] is None
    summary = results["scoring"]["reasoning_words"]
    assert summary["n"] == 17 and summary["max"] == 7
    assert results["scoring"]["verdict_parser"] == "spotfake-verdict-3"
    assert results["metrics"]["acc"] == pytest.approx(17 / 20)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    for sid, record in records.items():
        i = int(sid[1:])
        label = "real" if i % 3 == 0 else "fake"
        detail = "smooth skin" if label == "fake" else "natural grain"
        reference = f"This is a {label} image. Sample {i} shows {detail}."
        expected = scorer.score(reference, expected_explanations[sid])["rougeL"].fmeasure
        assert record["rouge_l"] == pytest.approx(expected, abs=1e-9), sid
        assert record["response"] == next(r["response"] for r in rows if r["id"] == sid)  # stored as answered
    tagged = scorer.score("This is a fake image. Sample 1 shows smooth skin.", rows[1]["response"])
    assert records["s00001"]["rouge_l"] > tagged["rougeL"].fmeasure  # the tags are not scored
