"""The verdict parser on the published answer texts of DD-VQA and LOKI (../shared/data; skipped when absent).

DD-VQA's reference answers are written by people who knew the label, so each one states the verdict of
its image (about the whole face or about the part the question asks about). LOKI's human notes explain
why an AI-generated image looks wrong: they must never read as "real".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from fixtures.shared import SharedData

from spotfake.harness.verdict import parse_verdict


def _ddvqa_answers(test_set: Path) -> list[tuple[str, str, str]]:
    """(label, question, answer) for every reference answer of the DD-VQA test set."""
    rows = []
    for path in sorted(test_set.glob("*/*.json")):
        for key, questions in json.loads(path.read_text()).items():
            label = "real" if key.split("_")[0] == "5" else "fake"  # manipulation id 5 = Original
            for item in questions.values():
                rows.extend((label, item["question"], answer) for answer in item["answer"])
    return rows


def _loki_notes(path: Path) -> list[str]:
    notes = []
    for item in json.loads(path.read_text(encoding="utf-16")):
        problems = item["problems"]
        notes.extend(r["desc"] for r in problems["regional"] if r["desc"].strip())
        notes.extend(g["desc"] for g in problems["global"] if g["desc"].strip())
    return notes


def test_every_ddvqa_reference_answer_reads_as_its_label(shared_data: SharedData) -> None:
    rows = _ddvqa_answers(shared_data("data", "DD-VQA", "DQ_FF++", "test_set"))
    assert len(rows) == 1841
    outcomes = Counter((label, parse_verdict(answer, question=question)) for label, question, answer in rows)
    assert outcomes == Counter({("fake", "fake"): 1140, ("real", "real"): 701})


def test_loki_artifact_notes_never_read_as_real_and_keep_an_opening_verdict(shared_data: SharedData) -> None:
    notes = _loki_notes(shared_data("data", "LOKI", "data_json", "image", "open_ended_vqa.json"))
    assert len(notes) > 800
    alone = Counter(parse_verdict(note) for note in notes)
    assert alone["real"] == 0
    assert alone[None] >= 0.95 * len(notes)  # explanations, mostly without any verdict of their own
    assert {parse_verdict("This is a fake image. " + note) for note in notes} == {"fake"}
    assert {parse_verdict("This is a real image. " + note) for note in notes} == {"real"}
