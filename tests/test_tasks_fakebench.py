"""FakeBench's FakeClass: the published record format, its three question templates, and the declared
``authenticity`` map checked against the published answers and the image folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file
from spotfake.harness.verdict import parse_verdict
from spotfake.tasks.registry import DEFINITIONS

AUTH = "What is the authenticity of this image, fake or real?"
IS_FAKE = "Is this a fake image, yes or no?"
IS_REAL = "Is this a real image, yes or no?"
RECORDS = [
    {"image_id": "FuseDream-00019.jpg", "question": AUTH, "answer": "fake", "authenticity": 0},
    {"image_id": "dalle3-01134.png", "question": IS_FAKE, "answer": "yes", "authenticity": 0},
    {"image_id": "styleGAN-00003.png", "question": IS_REAL, "answer": "no", "authenticity": 0},
    {"image_id": "000000579171.jpg", "question": AUTH, "answer": "real", "authenticity": 1},
    {"image_id": "n01534433_1234.JPEG", "question": IS_FAKE, "answer": "no", "authenticity": 1},
    {"image_id": "0394x4.png", "question": IS_REAL, "answer": "yes", "authenticity": 1},
]


def fakebench(root: Path, records: list[dict[str, Any]] = RECORDS) -> Path:
    (root / "Evaluation").mkdir(parents=True, exist_ok=True)
    (root / "Evaluation" / "FakeClass.json").write_text(json.dumps(records, indent=4))
    for record in records:
        folder = "fake_images" if record["authenticity"] == 0 else "real_images"
        path = root / "FakeBench_images" / folder / record["image_id"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"listed")
    return root


def read(root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "fakebench.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, **args})


def test_fakeclass_records_labels_generators_and_questions(tmp_path: Path) -> None:
    data = read(fakebench(tmp_path / "FakeBench"))
    assert [(s.id, s.label, s.category, s.yes_means) for s in data.samples] == [
        ("FuseDream-00019.jpg", "fake", "FuseDream", None),
        ("dalle3-01134.png", "fake", "dalle3", "fake"),
        ("styleGAN-00003.png", "fake", "styleGAN", "real"),
        ("000000579171.jpg", "real", "real", None),
        ("n01534433_1234.JPEG", "real", "real", "fake"),
        ("0394x4.png", "real", "real", "real"),
    ]
    assert all(s.question == s.prompt for s in data.samples)
    assert (
        data.samples[1].images[0] == tmp_path / "FakeBench" / "FakeBench_images/fake_images/dalle3-01134.png"
    )
    # the published answer of every record reads as its label under the task's answer kind
    for sample, record in zip(data.samples, RECORDS, strict=True):
        verdict = parse_verdict(
            record["answer"], kind="yesno", question=sample.prompt, yes_means=sample.yes_means
        )
        assert verdict == sample.label


def test_an_inverted_map_contradicts_the_published_answers_and_is_refused(tmp_path: Path) -> None:
    root = fakebench(tmp_path / "FakeBench")
    with pytest.raises(SpotfakeError) as info:
        read(root, labels="0:real|1:fake")
    text = str(info.value)
    assert "\n" not in text and "FakeClass.json record 0 (FuseDream-00019.jpg)" in text
    assert "authenticity 0 says real but answer 'fake' says fake" in text


def test_an_image_in_the_other_folder_and_an_unknown_value_are_refused(tmp_path: Path) -> None:
    records = [{**RECORDS[0]}, RECORDS[3]]
    root = fakebench(tmp_path / "FakeBench", records)
    moved = root / "FakeBench_images" / "real_images" / "FuseDream-00019.jpg"
    (root / "FakeBench_images" / "fake_images" / "FuseDream-00019.jpg").rename(moved)
    with pytest.raises(SpotfakeError, match="the folder real_images/ says real"):
        read(root)
    records[0]["authenticity"] = 2
    (root / "Evaluation" / "FakeClass.json").write_text(json.dumps(records))
    with pytest.raises(SpotfakeError, match="label 2 is not in the declared label map of task fakebench"):
        read(root)


def test_counts_are_compared_with_the_published_ones() -> None:
    """The published FakeClass.json itself: 6,000 records, 300 per generator, 3,000 reals."""
    from spotfake.tasks.readers.fakebench import GENERATOR, PUBLISHED

    assert sum(n for c in PUBLISHED.values() for n in c.values()) == 6000
    assert GENERATOR.match("midjourney-01110.png").group(1) == "midjourney"  # type: ignore[union-attr]


def test_the_fixture_reports_how_far_it_is_from_the_published_counts(tmp_path: Path) -> None:
    notes = read(fakebench(tmp_path / "FakeBench")).notes
    assert "real: 3 real, published 3000" in notes["count_differences"]
    assert "dalle3: 1 fake, published 300" in notes["count_differences"]
