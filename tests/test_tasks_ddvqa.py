"""The DD-VQA reader, on DD-VQA's published files (../shared/data/DD-VQA) and on small files made here."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fixtures.shared import SharedData
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.registry import import_object
from spotfake.harness.results import read_records
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.harness.types import Response, SampleError
from spotfake.tasks.registry import DEFINITIONS

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
    assert len({s.images[0] for s in samples}) == 1323  # one frame per question
    assert len({s.images[0].parent for s in samples}) == 262  # one frame folder per video
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
            assert sample.prompt == sample.question == item["question"]
            assert sample.references == tuple(item["answer"])
            assert sample.label == "fake"


def test_question_k_of_a_video_reads_its_kth_frame_and_a_custom_pattern(ddvqa: Path) -> None:
    samples = {s.id: s for s in read(ddvqa).samples}
    assert samples["0_114_102/0"].images == (ddvqa / "frames" / "Deepfakes" / "114_102" / "0000.png",)
    assert samples["0_114_102/5"].images == (ddvqa / "frames" / "Deepfakes" / "114_102" / "0005.png",)
    assert samples["5_044/0"].images == (ddvqa / "frames" / "Original" / "044" / "0000.png",)
    by_video: dict[str, set[Path]] = {}
    for sample in samples.values():
        by_video.setdefault(sample.id.split("/")[0], set()).add(sample.images[0])
    assert all(
        len(frames) == sum(s.startswith(f"{key}/") for s in samples) for key, frames in by_video.items()
    )
    custom = {s.id: s for s in read(ddvqa, frames="ff++/{ffpp_dir}/c23/{video}/{key}.jpg").samples}
    assert custom["6_154_386/0"].images == (
        ddvqa / "ff++" / "manipulated_sequences" / "NeuralTextures" / "c23" / "154_386" / "6_154_386.jpg",
    )
    assert custom["5_044/0"].images == (
        ddvqa / "ff++" / "original_sequences" / "youtube" / "c23" / "044" / "5_044.jpg",
    )


def test_a_missing_frame_is_reported_by_the_sample_with_its_exact_path(ddvqa: Path) -> None:
    sample = next(s for s in read(ddvqa).samples if s.id == "1_176_190/0")
    expected = ddvqa / "frames" / "Face2Face" / "176_190" / "0000.png"
    with pytest.raises(SampleError, match=re.escape(f"image not found: {expected} (sample 1_176_190/0)")):
        sample.load_images()


FAST = ScoringOptions(n_bootstrap=20)


class FrameReader(Model):
    """Answers with the grey level of its image (frame k is painted k) and the question it was asked."""

    name = "frame-reader"
    kind = "expert"  # no explanation metrics: this test is about what the model reads and is asked

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            level = item.images[0].getpixel((0, 0))[0]
            asked = item.sample.question or "Does the image looks real/fake?"
            out.append(Response(text=f"This is a fake image. frame={level} asked={asked}"))
        return out


def test_the_model_reads_frame_k_and_is_asked_question_k_and_a_missing_frame_is_one_error_record(
    ddvqa: Path, tmp_path: Path
) -> None:
    task = load_task("ddvqa", ddvqa, {"frames_root": str(tmp_path / "crops")})
    videos = {"0_114_102", "5_044"}
    task.samples = [s for s in task.samples if s.id.split("/")[0] in videos]
    published = {
        f"{key}/{qid}": item["question"]
        for method in ("Deepfakes", "Original")
        for key, questions in json.loads(
            (ddvqa / "DQ_FF++" / "test_set" / method / f"{method}.json").read_text(encoding="utf-8")
        ).items()
        for qid, item in questions.items()
        if key in videos
    }
    assert len(published) == len(task.samples) >= 7
    missing = "0_114_102/5"
    for sample in task.samples:
        k = int(sample.id.split("/")[1])
        if sample.id != missing:  # question 5 of 0_114_102 has no frame on disk
            sample.images[0].parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (k * 40, 0, 0)).save(sample.images[0])
    outcome = run(
        FrameReader(), {}, task, RunOptions(output_dir=tmp_path / "runs", progress=False, scoring=FAST)
    )
    records = {r.id: r for r in read_records(outcome.folder / "samples.jsonl")}
    assert set(records) == set(published)
    for sid, record in records.items():
        if sid == missing:
            expected = tmp_path / "crops" / "frames" / "Deepfakes" / "114_102" / "0005.png"
            assert record.error is not None and f"image not found: {expected}" in record.error
            continue
        k = int(sid.split("/")[1])
        assert record.error is None
        assert record.response == f"This is a fake image. frame={k * 40} asked={published[sid]}"
    assert outcome.results is not None and outcome.results["metrics"]["n_errors"] == 1


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
    one_frame = read(tmp_path, frames="{ffpp_dir}/c23/images/{video}/{qid}.jpg")
    assert one_frame.samples[0].images == (
        tmp_path / "manipulated_sequences" / "Deepfakes" / "c23" / "images" / "010_020" / "0.jpg",
    )


def test_sorted_frame_pick_reads_the_kth_file_of_the_video_folder(tmp_path: Path) -> None:
    three = {str(k): {"question": "Does the image looks real/fake?", "answer": ["Fake."]} for k in range(3)}
    make_ddvqa(tmp_path, {"Deepfakes": {"0_010_020": three}})
    folder = tmp_path / "ff" / "manipulated_sequences" / "Deepfakes" / "c23" / "frames" / "010_020"
    folder.mkdir(parents=True)
    for name in ("100.png", "20.png", "0.png", "notes.txt"):
        (folder / name).write_bytes(b"x")
    data = read(tmp_path, frames="ff/{ffpp_dir}/c23/frames/{video}", frame_pick="sorted")
    frames = {s.id: s.images[0] for s in data.samples if s.id.startswith("0_")}
    assert frames["0_010_020/0"] == folder / "0.png"
    assert frames["0_010_020/1"] == folder / "20.png"
    assert frames["0_010_020/2"] == folder / "100.png"
    missing = {s.id: s.images[0] for s in data.samples}["1_010_020/0"]
    assert missing.name == "[frame 0: this folder has 0 frame(s)]"
    with pytest.raises(SpotfakeError, match="frame_pick must be one of name, sorted"):
        read(tmp_path, frame_pick="random")


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
        ("frames/{video:04d}.png", r"bad frames pattern .*only \{index\} is a number"),
        ("frames/{index:q}.png", "bad frames pattern"),
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
