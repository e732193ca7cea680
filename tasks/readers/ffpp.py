"""FaceForensics++ (Rössler et al., ICCV 2019; github.com/ondyari/FaceForensics) as extracted frames.

The official tree, after ``dataset/extract_compressed_videos.py`` (which writes ``images/<video>/0000.png``
and up) or any face-cropping tool that keeps the same names::

    <data-root>/original_sequences/youtube/<c23|c40|raw>/images/<target>/<frame>.png
    <data-root>/manipulated_sequences/<Method>/<c23|c40|raw>/images/<target>_<source>/<frame>.png
    <data-root>/splits/{train,val,test}.json   # the official lists of [target, source] pairs

One sample per frame; label real for original sequences, fake for manipulated ones; category = the
manipulation method (``Original`` for real frames); ``metadata["video"]`` names the video, which the
video-level metrics (:mod:`tasks.metrics`) group by. For a split, pair ``[a, b]`` stands for the real
videos ``a`` and ``b`` and the fake videos ``a_b`` and ``b_a`` of every method (FF++'s own convention).
Nothing is opened: frames are only listed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    choice_arg,
    natural_key,
    path_text,
    read_json_file,
    require_data_root,
)
from spotfake.tasks.readers.imagefolder import EXTENSIONS, file_size, write_listing

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
"""FF++'s manipulation methods, as its folders spell them."""
REAL_DIR = "original_sequences/youtube"
REAL_CATEGORY = "Original"
COMPRESSIONS = ("raw", "c23", "c40")
SPLITS = ("train", "val", "test", "all")
ARGS = ("compression", "methods", "split", "split_file", "frames_dir", "frames_per_video", "cache_dir")
LAYOUT = "a FaceForensics++ folder holding original_sequences/ and manipulated_sequences/"
VIDEO_ID = re.compile(r"\d{3}")


def pick_frames(frames: list[str], n: int) -> list[str]:
    """``n`` frames evenly spaced over the sorted list, first and last included (all when ``n`` is 0 or
    at least the number of frames)."""
    if n <= 0 or n >= len(frames):
        return frames
    if n == 1:
        return frames[:1]
    picked = sorted({int(i * (len(frames) - 1) / (n - 1) + 0.5) for i in range(n)})  # nearest, halves up
    return [frames[i] for i in picked]


def split_videos(pairs: Any, path: Path) -> tuple[list[str], list[str]]:
    """(real videos, fake videos) of an official split file: ``[a, b]`` -> ``a``, ``b`` and ``a_b``, ``b_a``."""
    if not isinstance(pairs, list) or not pairs:
        raise SpotfakeError(f"{path}: expected a non-empty JSON list of [target, source] pairs")
    real: list[str] = []
    fake: list[str] = []
    for i, pair in enumerate(pairs):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, str) and VIDEO_ID.fullmatch(v) for v in pair)
        ):
            raise SpotfakeError(f"{path} pair [{i}]: expected two three-digit video ids, got {pair!r}")
        a, b = pair
        real += [a, b]
        fake += [f"{a}_{b}", f"{b}_{a}"]
    return list(dict.fromkeys(real)), list(dict.fromkeys(fake))  # a video listed twice is read once


def read_ffpp(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for FF++ frames (task args: ``compression``, ``methods``, ``split``, ``split_file``,
    ``frames_dir``, ``frames_per_video``, ``cache_dir``)."""
    check_args(spec, args, ARGS)
    root = require_data_root(spec, data_root, LAYOUT)
    compression = choice_arg(spec, "compression", args.get("compression", "c23"), COMPRESSIONS)
    split = choice_arg(spec, "split", args.get("split", "test"), SPLITS)
    methods = _methods(spec, args.get("methods", ",".join(METHODS)))
    frames_dir = path_text(str(args.get("frames_dir", "images")), f"task {spec.name}: frames_dir")
    per_video = _count(spec, args.get("frames_per_video", 0))
    if not spec.prompt:
        raise SpotfakeError(f"{spec.source}: task {spec.name} needs a 'prompt' (the real/fake question)")
    files: list[Path] = []
    wanted: tuple[list[str], list[str]] | None = None
    if split != "all":
        split_path = arg_path(root, args.get("split_file", "splits/{split}.json"), split)
        if not split_path.is_file():
            raise SpotfakeError(
                f"task {spec.name}: split list not found: {split_path} (copy dataset/splits/{split}.json "
                "from github.com/ondyari/FaceForensics there, or pass --task-args split=all for every "
                "video found)"
            )
        wanted = split_videos(read_json_file(split_path, what=f"FF++'s {split} split"), split_path)
        files.append(split_path)
    groups = [(REAL_CATEGORY, REAL_DIR, "real", wanted[0] if wanted else None)]
    groups += [(m, f"manipulated_sequences/{m}", "fake", wanted[1] if wanted else None) for m in methods]
    samples: list[Sample] = []
    listing: list[str] = []
    for category, folder, label, videos in groups:
        base = root / folder / compression / frames_dir
        if not base.is_dir():
            raise SpotfakeError(
                f"task {spec.name}: frames folder not found: {base} (expected {folder}/{compression}/"
                f"{frames_dir}/<video>/<frame>.png; see docs/tasks.md, or leave the method out with "
                "--task-args methods=...)"
            )
        for video in videos if videos is not None else _video_folders(base):
            frames = _frames(spec, base / video, per_video)
            for name in frames:
                path = base / video / name
                sample_id = path.relative_to(root).as_posix()
                samples.append(
                    Sample(
                        id=sample_id,
                        label=_label(label),
                        prompt=spec.prompt.strip(),
                        images=(path,),
                        category=category,
                        metadata={"video": f"{category}/{video}"},
                    )
                )
                listing.append(f"{sample_id}\t{label}\t{file_size(path)}\n")
    files.append(write_listing("ffpp", root, "".join(listing), args.get("cache_dir")))
    return TaskData(samples, files=files, notes={"split": split, "compression": compression})


def _frames(spec: TaskSpec, folder: Path, per_video: int) -> list[str]:
    if not folder.is_dir():
        raise SpotfakeError(
            f"task {spec.name}: no frames folder for a video of the split: {folder} (extract its frames, "
            "or pass --task-args split=all to use only the videos present)"
        )
    names = sorted(
        (p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS),
        key=natural_key,
    )
    if not names:
        raise SpotfakeError(f"task {spec.name}: no frames ({', '.join(EXTENSIONS)}) in {folder}")
    return pick_frames(names, per_video)


def _video_folders(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def _label(value: str) -> Label:
    return "real" if value == "real" else "fake"


def _methods(spec: TaskSpec, value: Any) -> list[str]:
    names = [m.strip() for m in re.split(r"[+,]", str(value)) if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise SpotfakeError(
            f"task {spec.name}: unknown method(s) {', '.join(unknown) or '(none given)'} "
            f"(known: {', '.join(METHODS)}; join several with '+', e.g. methods=Deepfakes+FaceSwap)"
        )
    return names


def _count(spec: TaskSpec, value: Any) -> int:
    try:
        n = int(str(value))
    except ValueError:
        n = -1
    if n < 0:
        raise SpotfakeError(f"task {spec.name}: frames_per_video must be a whole number >= 0, got {value!r}")
    return n
