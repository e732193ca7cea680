"""DD-VQA (Zhang et al., "Common Sense Reasoning for Deep Fake Detection", ECCV 2024;
github.com/Reality-Defender/Research-DD-VQA): questions about FaceForensics++ face crops, each with one or
more human answers that explain why the face (or a part of it) looks real or fake.

``<data-root>/DQ_FF++/<split>_set/<Method>/<Method>.json`` maps ``"<manip>_<target>[_<source>]"`` to
``{question id: {"question": ..., "answer": [...]}}``. The manipulation id gives the label
(5 = Original = real). The frames themselves are FF++ crops that users supply; their location is a path
pattern (task argument ``frames``), see docs/tasks.md. By default question ``k`` of a video (its position in
the file, from 0) reads that video's ``k``-th extracted frame, the pairing FakeVLM's authors describe
(github.com/opendatalab/FakeVLM issue #3). Each sample asks its own question (``Sample.question``).
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    choice_arg,
    natural_key,
    read_json_file,
    require_data_root,
    require_dict,
    safe_join,
    strip_image_tokens,
)

LAYOUT = "the Research-DD-VQA checkout, the folder that holds DQ_FF++/"
METHODS: dict[int, str] = {
    0: "Deepfakes",
    1: "Face2Face",
    2: "FaceShifter",
    3: "FaceSwap",
    5: "Original",
    6: "Neuraltexture",
}
"""Manipulation id -> DD-VQA's folder name (DD-VQA spells NeuralTextures ``Neuraltexture``)."""
FFPP_DIRS: dict[int, str] = {
    0: "manipulated_sequences/Deepfakes",
    1: "manipulated_sequences/Face2Face",
    2: "manipulated_sequences/FaceShifter",
    3: "manipulated_sequences/FaceSwap",
    5: "original_sequences/youtube",
    6: "manipulated_sequences/NeuralTextures",
}
"""Manipulation id -> the folder FaceForensics++ itself uses for that method's videos."""
REAL_ID = 5
KEY = re.compile(r"(\d+)_(\d+)(?:_(\d+))?")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
PLACEHOLDERS = ("key", "manip", "method", "ffpp_dir", "video", "target", "source", "index", "qid")
DEFAULT_FRAMES = "frames/{method}/{video}/{index:04d}.png"
ARGS = ("split", "annotations_dir", "frames", "frames_root", "frame_pick")
FRAME_PICKS = ("name", "sorted")
"""``name``: the pattern names each question's frame file. ``sorted``: the pattern names a video's frame
folder, and question k reads the k-th image file of it in natural sort order (for extractors that name
frames by their position in the video, e.g. DeepfakeBench's 32 frames 000.png, 010.png, ...)."""


def question_part(question: str) -> str:
    """The face part a question is about: ``image`` for the whole image, else ``skin``, ``eyes``, ..."""
    match = re.search(r"person's (\w+)", question)
    return match.group(1).lower() if match else "image"


def frame_fields(key: str, manip: int, index: int = 0, qid: str = "0") -> dict[str, str | int]:
    """The values a frame path pattern may use for one question: the image key's parts, the question's
    position among its video's questions (``index``, from 0; an int, so ``{index:04d}`` works) and its id."""
    match = KEY.fullmatch(key)
    assert match is not None
    target, source = match.group(2), match.group(3)
    return {
        "index": index,
        "qid": qid,
        "key": key,
        "manip": str(manip),
        "method": METHODS[manip],
        "ffpp_dir": FFPP_DIRS[manip],
        "video": f"{target}_{source}" if source else target,
        "target": target,
        "source": source or "",
    }


def check_pattern(pattern: str, spec: TaskSpec) -> None:
    """A frame pattern may only use the known placeholders (a typo is an error, not a silent miss)."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise SpotfakeError(f"task {spec.name}: bad frames pattern {pattern!r}: {exc}") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise SpotfakeError(
            f"task {spec.name}: frames pattern {pattern!r} uses unknown field(s) {', '.join(unknown)} "
            f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
        )
    try:
        pattern.format(**frame_fields("0_000_001", 0))
    except (ValueError, IndexError, KeyError) as exc:
        raise SpotfakeError(
            f"task {spec.name}: bad frames pattern {pattern!r}: {exc} "
            "(only {index} is a number, e.g. {index:04d}; the other fields are texts)"
        ) from None


def read_ddvqa(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for DD-VQA (task args: ``split``, ``annotations_dir``, ``frames``, ``frames_root``)."""
    check_args(spec, args, ARGS)
    root = require_data_root(spec, data_root, LAYOUT)
    split = str(args.get("split", "test"))
    base = arg_path(root, args.get("annotations_dir", "DQ_FF++/{split}_set"), split)
    pattern = str(args.get("frames", DEFAULT_FRAMES))
    check_pattern(pattern, spec)
    frames_root = arg_path(root, args.get("frames_root", "."))
    pick = choice_arg(spec, "frame_pick", args.get("frame_pick", "name"), FRAME_PICKS)
    frame_of = KthFrame() if pick == "sorted" else None
    samples: list[Sample] = []
    files: list[Path] = []
    for manip, method in METHODS.items():
        path = base / method / f"{method}.json"
        data = require_dict(
            read_json_file(path, what=f"DD-VQA's {method} questions"), path, "image key -> questions"
        )
        files.append(path)
        for key, questions in data.items():
            samples.extend(_image_samples(key, questions, manip, path, pattern, frames_root, frame_of))
    return TaskData(samples, files=files, notes={"split": split, "frames": pattern, "frame_pick": pick})


class KthFrame:
    """``frame_pick=sorted``: the k-th image file of a video's frame folder (natural order, listed once).

    A folder that is missing or holds fewer than k + 1 frames gives a path that names the problem, so that
    the sample becomes one error record (the runner's "image not found") and the run goes on."""

    def __init__(self) -> None:
        self._listed: dict[Path, list[str]] = {}

    def __call__(self, folder: Path, index: int) -> Path:
        if folder not in self._listed:
            names = (
                [p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
                if folder.is_dir()
                else []
            )
            self._listed[folder] = sorted(names, key=natural_key)
        names = self._listed[folder]
        if index < len(names):
            return folder / names[index]
        return folder / f"[frame {index}: this folder has {len(names)} frame(s)]"


def _image_samples(
    key: str,
    questions: Any,
    manip: int,
    path: Path,
    pattern: str,
    frames_root: Path,
    frame_of: KthFrame | None,
) -> list[Sample]:
    where = f"key {key!r}"
    match = KEY.fullmatch(key)
    if match is None:
        raise SpotfakeError(f"{path} {where}: expected '<manipulation id>_<video>[_<source video>]'")
    key_manip = int(match.group(1))
    if key_manip != manip:
        name = METHODS.get(key_manip, f"unknown id {key_manip}")
        raise SpotfakeError(
            f"{path} {where}: manipulation id {key_manip} ({name}) in the {METHODS[manip]} file"
        )
    if (match.group(3) is None) != (manip == REAL_ID):
        raise SpotfakeError(f"{path} {where}: originals have one video id, manipulated frames two")
    if not isinstance(questions, dict) or not questions:
        raise SpotfakeError(f"{path} {where}: expected a non-empty object of questions")
    out = []
    for index, (qid, item) in enumerate(questions.items()):
        qwhere = f"{where} question {qid!r}"
        fields = frame_fields(key, manip, index, qid)
        frame = safe_join(frames_root, pattern.format(**fields), source=path, where=qwhere)
        if frame_of is not None:
            frame = frame_of(frame, index)
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise SpotfakeError(f"{path} {qwhere}: needs a text 'question'")
        answers = item.get("answer")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise SpotfakeError(f"{path} {qwhere}: 'answer' must be a list of texts")
        question = strip_image_tokens(item["question"])
        out.append(
            Sample(
                id=f"{key}/{qid}",
                label="real" if manip == REAL_ID else "fake",
                prompt=question,
                question=question,
                images=(frame,),
                references=tuple(a.strip() for a in answers if a.strip()),
                category=question_part(question),
                metadata={"manipulation": METHODS[manip], "question_index": str(index)},
            )
        )
    return out
