"""The ffpp task: FaceForensics++ frames in the official tree (small trees made here), frame and video metrics."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.registry import import_object
from spotfake.harness.results import read_results
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.harness.types import Response
from spotfake.tasks.readers.common import natural_key
from spotfake.tasks.readers.ffpp import pick_frames, split_videos
from spotfake.tasks.registry import DEFINITIONS

FAST = ScoringOptions(n_bootstrap=20)
PAIRS = [["000", "001"], ["002", "003"]]


def read(root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "ffpp.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, "cache_dir": str(root / ".cache"), **args})


def frame(path: Path, level: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (level, 0, 0)).save(path)


def make_ffpp(root: Path, levels: dict[str, list[int]] | None = None, compression: str = "c23") -> Path:
    """Two test pairs, Deepfakes and FaceSwap; frame grey levels from ``levels[<category>/<video>]``
    (default: reals dark, fakes bright); plus video 004, which no split lists."""
    levels = levels or {}
    (root / "splits").mkdir(parents=True, exist_ok=True)
    (root / "splits" / "test.json").write_text(json.dumps(PAIRS), encoding="utf-8")
    videos = {"Original": ["000", "001", "002", "003", "004"]}
    for method in ("Deepfakes", "FaceSwap"):
        videos[method] = ["000_001", "001_000", "002_003", "003_002"]
    for category, names in videos.items():
        folder = (
            "original_sequences/youtube" if category == "Original" else f"manipulated_sequences/{category}"
        )
        for video in names:
            default = [20, 30, 40] if category == "Original" else [200, 210, 220]
            for i, level in enumerate(levels.get(f"{category}/{video}", default)):
                frame(root / folder / compression / "images" / video / f"{i:04d}.png", level)
    return root


def test_the_official_tree_gives_one_sample_per_frame_of_the_split(tmp_path: Path) -> None:
    data = read(make_ffpp(tmp_path / "ff"), methods="Deepfakes+FaceSwap")
    samples = data.samples
    assert len(samples) == 4 * 3 + 2 * 4 * 3
    assert Counter(s.category for s in samples) == {"Original": 12, "Deepfakes": 12, "FaceSwap": 12}
    assert all((s.label == "real") == (s.category == "Original") for s in samples)
    first = samples[0]
    assert first.id == "original_sequences/youtube/c23/images/000/0000.png"
    assert first.images == (tmp_path / "ff" / first.id,)
    assert first.metadata == {"video": "Original/000"}
    assert not any("/004/" in s.id for s in samples)  # not in the split
    assert {s.metadata["video"] for s in samples if s.category == "FaceSwap"} == {
        "FaceSwap/000_001",
        "FaceSwap/001_000",
        "FaceSwap/002_003",
        "FaceSwap/003_002",
    }
    everything = read(tmp_path / "ff", methods="Deepfakes+FaceSwap", split="all")
    assert len(everything.samples) == len(samples) + 3


def test_frames_per_video_and_compression_are_task_arguments(tmp_path: Path) -> None:
    make_ffpp(tmp_path / "ff", {"Original/000": list(range(10, 110, 10))}, compression="c40")
    data = read(tmp_path / "ff", methods="Deepfakes", compression="c40", frames_per_video=4)
    names = [s.id.rsplit("/", 1)[1] for s in data.samples if s.metadata["video"] == "Original/000"]
    assert names == ["0000.png", "0003.png", "0006.png", "0009.png"]
    with pytest.raises(SpotfakeError, match=re.escape("frames folder not found: ")):
        read(tmp_path / "ff", methods="Deepfakes")  # c23 is absent


def test_frame_helpers() -> None:
    assert sorted(["10.png", "9.png", "100.png"], key=natural_key) == ["9.png", "10.png", "100.png"]
    assert pick_frames(list("abcdefghij"), 3) == ["a", "f", "j"]
    assert pick_frames(list("abc"), 0) == ["a", "b", "c"]
    assert pick_frames(list("abc"), 5) == ["a", "b", "c"]
    assert split_videos([["953", "974"]], Path("t.json")) == (["953", "974"], ["953_974", "974_953"])
    assert split_videos([["953", "974"], ["974", "953"]], Path("t.json")) == (
        ["953", "974"],
        ["953_974", "974_953"],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"methods": "Deepfake"}, r"unknown method\(s\) Deepfake \(known: Deepfakes, Face2Face"),
        ({"compression": "c30"}, "compression must be one of raw, c23, c40"),
        ({"split": "dev"}, "split must be one of train, val, test, all"),
        ({"frames_per_video": "many"}, "frames_per_video must be a whole number"),
        ({"split": "val"}, r"split list not found: .*splits/val.json \(copy dataset/splits/val.json"),
        ({"methods": "Face2Face"}, r"frames folder not found: .*manipulated_sequences/Face2Face/c23/images"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: dict[str, str], message: str) -> None:
    make_ffpp(tmp_path / "ff")
    with pytest.raises(SpotfakeError, match=message):
        read(tmp_path / "ff", **args)


def test_a_split_video_without_frames_and_a_bad_split_file_name_the_path(tmp_path: Path) -> None:
    root = make_ffpp(tmp_path / "ff")
    (root / "splits" / "test.json").write_text(json.dumps([["000", "009"]]), encoding="utf-8")
    with pytest.raises(
        SpotfakeError, match=re.escape(f"{root / 'original_sequences/youtube/c23/images/009'}")
    ):
        read(root, methods="Deepfakes")
    (root / "splits" / "test.json").write_text(json.dumps([["000", 9]]), encoding="utf-8")
    with pytest.raises(SpotfakeError, match=r"pair \[0\]: expected two three-digit video ids"):
        read(root, methods="Deepfakes")


class GreyLevel(Model):
    """p(fake) = the red level of the frame / 255, with the matching verdict."""

    name = "grey-level"
    kind = "expert"

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            p = item.images[0].getpixel((0, 0))[0] / 255
            out.append(Response(text=f"This is a {'fake' if p >= 0.5 else 'real'} image.", score=p))
        return out


def test_video_metrics_aggregate_frames_by_video(tmp_path: Path) -> None:
    # Frame level, one real video has a bright (fake-looking) frame and one fake video two dark ones:
    # majority votes: Original/000 real (2 of 3), Deepfakes/000_001 real (2 dark of 3) -> one video wrong.
    levels = {"Original/000": [20, 30, 250], "Deepfakes/000_001": [10, 10, 240]}
    root = make_ffpp(tmp_path / "ff", levels)
    task = load_task("ffpp", root, {"methods": "Deepfakes", "cache_dir": str(tmp_path / "cache")})
    options = RunOptions(output_dir=tmp_path / "runs", progress=False, scoring=FAST)
    results = run(GreyLevel(), {}, task, options).results
    assert results is not None
    metrics = results["metrics"]
    assert metrics["n"] == 24
    assert metrics["acc"] == pytest.approx(21 / 24)
    assert metrics["video_acc"] == pytest.approx(7 / 8)
    # Video means: reals 30, 30, 30, 30+... : Original/000 = 100, others 30; Deepfakes/000_001 = 86.7,
    # the other fakes 210. The fake at 86.7 ranks below the real at 100: 1 of 16 pairs wrong.
    assert metrics["video_auc"] == pytest.approx(15 / 16)
    assert metrics["auc"] < metrics["video_auc"]
    assert results["per_category"]["Deepfakes"]["video_auc"] == pytest.approx(15 / 16)


def test_ffpp_runs_from_the_command_line_and_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_ffpp(tmp_path / "ff")
    argv = ["run", "--model", "always-fake", "--task", "ffpp", "--data-root", str(root)]
    argv += ["--task-args", f"methods=Deepfakes+FaceSwap,cache_dir={tmp_path / 'cache'}"]
    assert main([*argv, "--output-dir", str(tmp_path / "runs"), "--bootstrap", "20", "--quiet"]) == 0
    (path,) = (tmp_path / "runs").rglob("results.json")
    metrics = read_results(path)["metrics"]
    assert metrics["acc"] == pytest.approx(24 / 36) and metrics["video_acc"] == pytest.approx(8 / 12)
    assert main(["list", "tasks"]) == 0
    assert re.search(r"^ffpp\s", capsys.readouterr().out, re.MULTILINE)
    bad = [*argv[:-2], "--task-args", "methods=Deepfakes,split=nope", "--output-dir", str(tmp_path / "bad")]
    assert main(bad) == 2
    assert "split must be one of" in capsys.readouterr().err
