"""The verdict parser on the published answer texts of DD-VQA and LOKI (../shared/data; skipped when absent).

DD-VQA's reference answers are written by people who knew the label, so each one states the verdict of
its image (about the whole face or about the part the question asks about). LOKI's human notes explain
why an AI-generated image looks wrong: they must never read as "real".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.verdict import parse_verdict

SHARED = Path(__file__).resolve().parents[2] / "shared"
DDVQA_TEST = SHARED / "data" / "DD-VQA" / "DQ_FF++" / "test_set"
LOKI_NOTES = SHARED / "data" / "LOKI" / "data_json" / "image" / "open_ended_vqa.json"

pytestmark = pytest.mark.shared


def _ddvqa_answers() -> list[tuple[str, str, str]]:
    """(label, question, answer) for every reference answer of the DD-VQA test set."""
    rows = []
    for path in sorted(DDVQA_TEST.glob("*/*.json")):
        for key, questions in json.loads(path.read_text()).items():
            label = "real" if key.split("_")[0] == "5" else "fake"  # manipulation id 5 = Original
            for item in questions.values():
                rows.extend((label, item["question"], answer) for answer in item["answer"])
    return rows


def _loki_notes() -> list[str]:
    notes = []
    for item in json.loads(LOKI_NOTES.read_text(encoding="utf-16")):
        problems = item["problems"]
        notes.extend(r["desc"] for r in problems["regional"] if r["desc"].strip())
        notes.extend(g["desc"] for g in problems["global"] if g["desc"].strip())
    return notes


@pytest.mark.skipif(not DDVQA_TEST.is_dir(), reason="../shared/data/DD-VQA is absent")
def test_every_ddvqa_reference_answer_reads_as_its_label() -> None:
    rows = _ddvqa_answers()
    assert len(rows) == 1841
    outcomes = Counter((label, parse_verdict(answer, question=question)) for label, question, answer in rows)
    assert outcomes == Counter({("fake", "fake"): 1140, ("real", "real"): 701})


@pytest.mark.skipif(not LOKI_NOTES.is_file(), reason="../shared/data/LOKI is absent")
def test_loki_artifact_notes_never_read_as_real_and_keep_an_opening_verdict() -> None:
    notes = _loki_notes()
    assert len(notes) > 800
    alone = Counter(parse_verdict(note) for note in notes)
    assert alone["real"] == 0
    assert alone[None] >= 0.95 * len(notes)  # explanations, mostly without any verdict of their own
    assert {parse_verdict("This is a fake image. " + note) for note in notes} == {"fake"}
    assert {parse_verdict("This is a real image. " + note) for note in notes} == {"real"}
