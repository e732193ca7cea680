"""The DD-VQA reader, on DD-VQA's published files (../shared/data/DD-VQA) and on small files made here."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fixtures.shared import SharedData

from harness.errors import SpotfakeError
from harness.registry import import_object
from harness.task import TaskData, load_spec_file, load_task
from harness.types import SampleError
from tasks.registry import DEFINITIONS

METHODS = ("Deepfakes", "Face2Face", "FaceShifter", "FaceSwap", "Neuraltexture", "Original")


@pytest.fixture
def ddvqa(shared_data: SharedData) -> Path:
    """The Research-DD-VQA checkout in the shared data (its DQ_FF++ folder must be there)."""
    shared_data("data", "DD-VQA", "DQ_FF++")
    return shared_data("data", "DD-VQA")


def read(root: Path | None, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "ddvqa.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, **args})


def test_test_set_has_1323_questions_on_262_images_84_real(ddvqa: Path) -> None:
    task = load_task("ddvqa", ddvqa)
    samples = task.samples
    assert len(samples) == 1323
    images = {s.id.split("/")[0]: s.label for s in samples}
    assert len(images) == 262
    assert Counter(images.values()) == {"real": 84, "fake": 178}
    assert sum(len(s.references) for s in samples) == 1841
    assert len({s.images[0] for s in samples}) == 262
    assert {s.metadata["manipulation"] for s in samples} == set(METHODS)
    assert all((s.label == "real") == (s.metadata["manipulation"] == "Original") for s in samples)
    assert all(s.label == "real" or s.id.startswith(("0_", "1_", "2_", "3_", "6_")) for s in samples)
    assert Counter(s.category for s in samples) == {
        "image": 262,
        "skin": 227,
        "nose": 215,
        "eyebrows": 207,
        "eyes": 206,
        "mouth": 206,
    }


def test_references_are_the_published_answers_and_the_prompt_is_the_question(ddvqa: Path) -> None:
    samples = {s.id: s for s in read(ddvqa).samples}
    published = json.loads(
        (ddvqa / "DQ_FF++" / "test_set" / "FaceSwap" / "FaceSwap.json").read_text(encoding="utf-8")
    )
    for key, questions in published.items():
        for qid, item in questions.items():
            sample = samples[f"{key}/{qid}"]
            assert sample.prompt == item["question"]
            assert sample.references == tuple(item["answer"])
            assert sample.label == "fake"


def test_default_frame_layout_and_a_custom_pattern(ddvqa: Path) -> None:
    samples = {s.id: s for s in read(ddvqa).samples}
    assert samples["0_114_102/0"].images == (ddvqa / "frames" / "Deepfakes" / "114_102.png",)
    assert samples["5_044/0"].images == (ddvqa / "frames" / "Original" / "044.png",)
    custom = {s.id: s for s in read(ddvqa, frames="ff++/{ffpp_dir}/c23/{video}/{key}.jpg").samples}
    assert custom["6_154_386/0"].images == (
        ddvqa / "ff++" / "manipulated_sequences" / "NeuralTextures" / "c23" / "154_386" / "6_154_386.jpg",
    )
    assert custom["5_044/0"].images == (
        ddvqa / "ff++" / "original_sequences" / "youtube" / "c23" / "044" / "5_044.jpg",
    )


def test_a_missing_frame_is_reported_by_the_sample_with_its_exact_path(ddvqa: Path) -> None:
    sample = next(s for s in read(ddvqa).samples if s.id == "1_176_190/0")
    expected = ddvqa / "frames" / "Face2Face" / "176_190.png"
    with pytest.raises(SampleError, match=re.escape(f"image not found: {expected} (sample 1_176_190/0)")):
        sample.load_images()


def test_the_train_split_reads_too(ddvqa: Path) -> None:
    train = read(ddvqa, split="train")
    assert len(train.samples) > 1323
    assert {s.metadata["manipulation"] for s in train.samples} == set(METHODS)


# ---------------------------------------------------------------- small files made here


def make_ddvqa(root: Path, data: dict[str, dict[str, Any]] | None = None) -> Path:
    base = root / "DQ_FF++" / "test_set"
    for method in METHODS:
        manip = {
            "Deepfakes": 0,
            "Face2Face": 1,
            "FaceShifter": 2,
            "FaceSwap": 3,
            "Neuraltexture": 6,
            "Original": 5,
        }[method]
        key = f"5_{manip:03d}" if manip == 5 else f"{manip}_010_020"
        answer = "The image looks real." if manip == 5 else "The image looks fake. The mouth is blurred."
        content = (data or {}).get(
            method, {key: {"0": {"question": "Does the image looks real/fake?", "answer": [answer]}}}
        )
        (base / method).mkdir(parents=True, exist_ok=True)
        (base / method / f"{method}.json").write_text(json.dumps(content), encoding="utf-8")
    return base


def test_small_files_give_one_sample_per_question(tmp_path: Path) -> None:
    make_ddvqa(tmp_path)
    data = read(tmp_path)
    assert [(s.id, s.label, s.metadata["manipulation"]) for s in data.samples] == [
        ("0_010_020/0", "fake", "Deepfakes"),
        ("1_010_020/0", "fake", "Face2Face"),
        ("2_010_020/0", "fake", "FaceShifter"),
        ("3_010_020/0", "fake", "FaceSwap"),
        ("5_005/0", "real", "Original"),
        ("6_010_020/0", "fake", "Neuraltexture"),
    ]
    assert len(data.files) == 6


def test_frames_root_may_be_anywhere_the_user_says(tmp_path: Path) -> None:
    make_ddvqa(tmp_path)
    data = read(tmp_path, frames_root=str(tmp_path / "crops"), frames="{key}.png")
    assert data.samples[0].images == (tmp_path / "crops" / "0_010_020.png",)


def test_a_missing_method_file_names_the_exact_path(tmp_path: Path) -> None:
    base = make_ddvqa(tmp_path)
    shutil.rmtree(base / "FaceShifter")
    with pytest.raises(
        SpotfakeError,
        match=re.escape(f"annotation file not found: {base / 'FaceShifter' / 'FaceShifter.json'} "),
    ):
        read(tmp_path)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ("frames/{methd}/{video}.png", r"unknown field\(s\) methd \(known: \{key\}, \{manip\}"),
        ("frames/{video", "bad frames pattern"),
        ("../../{key}.png", "escapes the data root"),
    ],
)
def test_bad_frame_patterns_are_refused(tmp_path: Path, frames: str, message: str) -> None:
    make_ddvqa(tmp_path)
    with pytest.raises(SpotfakeError, match=message):
        read(tmp_path, frames=frames)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {"3_010_020": {"0": {"question": "q", "answer": ["a"]}}},
            r"key '3_010_020': manipulation id 3 \(FaceSwap\) in the Deepfakes file",
        ),
        (
            {"0_../../x": {"0": {"question": "q", "answer": ["a"]}}},
            r"key '0_../../x': expected '<manipulation id>_<video>",
        ),
        (
            {"0_010": {"0": {"question": "q", "answer": ["a"]}}},
            "originals have one video id, manipulated frames two",
        ),
        (
            {"0_010_020": {"0": {"question": "q", "answer": "a"}}},
            r"question '0': 'answer' must be a list of texts",
        ),
        ({"0_010_020": {"0": {"answer": ["a"]}}}, r"question '0': needs a text 'question'"),
        ({"0_010_020": {}}, "expected a non-empty object of questions"),
    ],
)
def test_bad_records_are_refused_naming_file_and_key(tmp_path: Path, content: Any, message: str) -> None:
    base = make_ddvqa(tmp_path, {"Deepfakes": content})
    with pytest.raises(SpotfakeError, match=message) as info:
        read(tmp_path)
    assert str(base / "Deepfakes" / "Deepfakes.json") in str(info.value)


def test_data_root_must_hold_dq_ffpp(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="ddvqa needs --data-root: the Research-DD-VQA checkout"):
        read(None)
    with pytest.raises(
        SpotfakeError,
        match=re.escape(f"annotation file not found: {tmp_path / 'DQ_FF++' / 'test_set' / 'Deepfakes'}"),
    ):
        read(tmp_path)
