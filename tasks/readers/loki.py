"""LOKI (Ye et al., "LOKI: A Comprehensive Synthetic Data Detection Benchmark using Large Multimodal
Models", ICLR 2025; github.com/opendatalab/LOKI), image modality, read from its published JSON files.

``<data-root>/data_json/image/`` holds ``true_or_false.json`` (4,434 yes/no questions, two per image),
``multi_choice.json`` (2,634 two-image questions) and ``open_ended_vqa.json`` (229 annotated fakes,
UTF-16 with a BOM); image paths in them (``media_data/image/<uuid>.<ext>``) are relative to the data root.
``question_type`` carries the truth: ``image_tf_image_{real|fake}_ask_{real|fake}_<category>`` and
``image_mc_{real|fake}_from_{real|fake}_<category>``. Four tasks are built from these files:

- ``loki``: one sample per unique image of ``true_or_false.json``, asked a single real/fake question
  (FakeVLM's protocol); LOKI's human notes are the reference where ``open_ended_vqa.json`` has them.
- ``loki-judgment``: every yes/no question as published (LOKI's own protocol).
- ``loki-mc``: the two-image questions; the label is the truth of the *first* image (see docs/tasks.md).
- ``loki-explain``: the 229 annotated fakes; reference = the global note and the regional notes joined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    get_field,
    read_json_file,
    relative_id,
    require_data_root,
    require_list,
    safe_join,
    strip_image_tokens,
)

LAYOUT = "a LOKI checkout with data_json/image/*.json and the images under media_data/"
TF_FILE, MC_FILE, EXPLAIN_FILE = "true_or_false.json", "multi_choice.json", "open_ended_vqa.json"
TF_TYPE = re.compile(r"image_tf_image_(real|fake)_ask_(real|fake)_([A-Za-z]+)")
MC_TYPE = re.compile(r"image_mc_(real|fake)_from_(real|fake)_([A-Za-z]+)")
CATEGORY_NAMES = {"sence": "scene"}
"""LOKI spells scenery ``sence`` in ``question_type``; other category names are kept as published."""

COMMON_ARGS = ("annotations_dir", "image_dir")
DEFAULTS = {"annotations_dir": "data_json/image", "image_dir": "."}


@dataclass(frozen=True)
class TfQuestion:
    """One validated record of ``true_or_false.json``."""

    id: str
    image: str
    image_label: Label
    asks: Label
    category: str
    question: str


def normalise_category(raw: str) -> str:
    """LOKI's category field, lower-cased, with the ``sence`` spelling fixed to ``scene``."""
    name = raw.lower()
    return CATEGORY_NAMES.get(name, name)


def _other(label: str) -> Label:
    return "real" if label == "fake" else "fake"


def _label(text: str) -> Label:
    return "fake" if text == "fake" else "real"


def _locations(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> tuple[Path, Path]:
    root = require_data_root(spec, data_root, LAYOUT)
    annotations = arg_path(root, args.get("annotations_dir", DEFAULTS["annotations_dir"]))
    images = arg_path(root, args.get("image_dir", DEFAULTS["image_dir"]))
    return annotations, images


def read_tf_questions(path: Path) -> list[TfQuestion]:
    """Read and check ``true_or_false.json``; the published answer must agree with ``question_type``."""
    records = require_list(read_json_file(path, what=f"LOKI's {TF_FILE}"), path, "questions")
    out = []
    for index, record in enumerate(records):
        where = f"record [{index}]"
        qid = get_field(record, "id", str, source=path, where=where)
        where = f"record [{index}] (id {qid!r})"
        qtype = get_field(record, "question_type", str, source=path, where=where)
        match = TF_TYPE.fullmatch(qtype)
        if match is None:
            raise SpotfakeError(
                f"{path} {where}: question_type {qtype!r} is not image_tf_image_<real|fake>_ask_<real|fake>_<category>"
            )
        image_label, asks = _label(match.group(1)), _label(match.group(2))
        answer = str(get_field(record, "answer", str, source=path, where=where)).strip().lower()
        expected = "yes" if image_label == asks else "no"
        if answer != expected:
            raise SpotfakeError(
                f"{path} {where}: answer {record['answer']!r} contradicts question_type {qtype!r} (expected {expected})"
            )
        out.append(
            TfQuestion(
                id=qid,
                image=relative_id(get_field(record, "image_path", str, source=path, where=where)),
                image_label=image_label,
                asks=asks,
                category=normalise_category(match.group(3)),
                question=get_field(record, "question", str, source=path, where=where),
            )
        )
    if not out:
        raise SpotfakeError(f"{path}: no questions")
    return out


def image_truth(questions: list[TfQuestion], path: Path) -> dict[str, tuple[Label, str]]:
    """``image path -> (label, category)`` in file order; an image labelled both ways is an error."""
    truth: dict[str, tuple[Label, str]] = {}
    for q in questions:
        seen = truth.setdefault(q.image, (q.image_label, q.category))
        if seen != (q.image_label, q.category):
            raise SpotfakeError(
                f"{path} id {q.id!r}: image {q.image!r} is {q.image_label}/{q.category} here but "
                f"{seen[0]}/{seen[1]} in an earlier question"
            )
    return truth


def explanation_of(record: Any, path: Path, where: str) -> str:
    """LOKI's human notes for one image: the global note, then each regional note, joined by spaces."""
    problems = get_field(record, "problems", dict, source=path, where=where)
    notes = []
    for part in ("global", "regional"):
        entries = problems.get(part, [])
        if not isinstance(entries, list):
            raise SpotfakeError(f"{path} {where}: problems.{part} must be a list")
        for entry in entries:
            desc = entry.get("desc") if isinstance(entry, dict) else None
            if not isinstance(desc, str):
                raise SpotfakeError(f"{path} {where}: each problems.{part} entry needs a text 'desc'")
            if desc.strip():
                notes.append(" ".join(desc.split()))
    return " ".join(notes)


@dataclass(frozen=True)
class Explained:
    """One record of ``open_ended_vqa.json``: the image, its joined notes and LOKI's own question."""

    id: str
    image: str
    reference: str
    question: str


def read_explanations(path: Path) -> list[Explained]:
    """Read ``open_ended_vqa.json`` (published as UTF-16 with a BOM; any BOM'd or UTF-8 file works)."""
    records = require_list(read_json_file(path, what=f"LOKI's {EXPLAIN_FILE}"), path, "annotated images")
    out = []
    for index, record in enumerate(records):
        where = f"record [{index}]"
        image = relative_id(get_field(record, "image_path", str, source=path, where=where))
        where = f"record [{index}] (image {image!r})"
        out.append(
            Explained(
                id=str(record.get("id", image)),
                image=image,
                reference=explanation_of(record, path, where),
                question=str(record.get("question", "")),
            )
        )
    return out


def read_loki(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """``loki``: one real/fake question per unique image of ``true_or_false.json`` (FakeVLM's protocol)."""
    check_args(spec, args, COMMON_ARGS)
    annotations, images = _locations(spec, data_root, args)
    tf_path, explain_path = annotations / TF_FILE, annotations / EXPLAIN_FILE
    truth = image_truth(read_tf_questions(tf_path), tf_path)
    notes = {e.image: e.reference for e in read_explanations(explain_path) if e.reference}
    prompt = _task_prompt(spec)
    samples = [
        Sample(
            id=image,
            label=label,
            prompt=prompt,
            images=(safe_join(images, image, source=tf_path, where=f"image {image!r}"),),
            references=(notes[image],) if image in notes else (),
            category=category,
        )
        for image, (label, category) in truth.items()
    ]
    with_reference = sum(1 for s in samples if s.references)
    return TaskData(samples, files=[tf_path, explain_path], notes={"n_with_reference": with_reference})


def read_loki_judgment(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """``loki-judgment``: LOKI's yes/no questions, two per image; ``yes_means`` follows the question."""
    check_args(spec, args, (*COMMON_ARGS, "answer_suffix"))
    annotations, images = _locations(spec, data_root, args)
    tf_path = annotations / TF_FILE
    suffix = str(args.get("answer_suffix", "")).strip()
    samples = [
        Sample(
            id=q.id,
            label=q.image_label,
            prompt=_join(strip_image_tokens(q.question), suffix),
            question=_join(strip_image_tokens(q.question), suffix),
            images=(safe_join(images, q.image, source=tf_path, where=f"id {q.id!r}"),),
            category=q.category,
            metadata={"asks": q.asks},
            yes_means=q.asks,
        )
        for q in read_tf_questions(tf_path)
    ]
    return TaskData(samples, files=[tf_path])


def read_loki_mc(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """``loki-mc``: "which of the two images is (not) AI-generated?"; the answer is an option letter.

    One image of each pair is fake and the other real, so choosing an option is a verdict on the first
    image: the sample's ``label`` is the truth of the first image, and ``metadata['asks']`` says whether
    the question asks for the fake or the real one.
    """
    check_args(spec, args, (*COMMON_ARGS, "answer_suffix"))
    annotations, images = _locations(spec, data_root, args)
    path = annotations / MC_FILE
    suffix = str(args.get("answer_suffix", "")).strip()
    records = require_list(read_json_file(path, what=f"LOKI's {MC_FILE}"), path, "questions")
    samples = []
    for index, record in enumerate(records):
        qid = get_field(record, "id", str, source=path, where=f"record [{index}]")
        where = f"record [{index}] (id {qid!r})"
        qtype = get_field(record, "question_type", str, source=path, where=where)
        match = MC_TYPE.fullmatch(qtype)
        if match is None or match.group(1) == match.group(2):
            raise SpotfakeError(
                f"{path} {where}: question_type {qtype!r} is not image_mc_<real|fake>_from_<fake|real>_<category>"
            )
        paths = get_field(record, "image_path", list, source=path, where=where)
        options = get_field(record, "choices", list, source=path, where=where)
        if len(paths) != len(options) or len(paths) < 2 or not all(isinstance(o, str) for o in options):
            raise SpotfakeError(
                f"{path} {where}: needs one text choice per image, got {len(options)} for {len(paths)}"
            )
        letters = tuple(chr(ord("A") + i) for i in range(len(options)))
        answer = str(get_field(record, "answer", str, source=path, where=where)).strip().upper()
        if answer not in letters:
            raise SpotfakeError(
                f"{path} {where}: answer {record['answer']!r} is not one of {', '.join(letters)}"
            )
        asks = _label(match.group(1))
        first: Label = asks if answer == "A" else _other(asks)
        listing = "\n".join(
            f"{letter}. {text.strip()}" for letter, text in zip(letters, options, strict=True)
        )
        prompt = _join(
            strip_image_tokens(get_field(record, "question", str, source=path, where=where)), listing, suffix
        )
        samples.append(
            Sample(
                id=qid,
                label=first,
                prompt=prompt,
                question=prompt,
                images=tuple(safe_join(images, p, source=path, where=where) for p in paths),
                category=normalise_category(match.group(3)),
                metadata={"asks": asks},
                choices=letters,
                answer=answer,
            )
        )
    if not samples:
        raise SpotfakeError(f"{path}: no questions")
    return TaskData(samples, files=[path])


def read_loki_explain(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """``loki-explain``: the annotated fakes of ``open_ended_vqa.json`` with their human notes.

    ``prompt_source=task`` (default) asks the task's real/fake question, so the verdict still counts;
    ``prompt_source=dataset`` asks LOKI's own question, which tells the model the image is fake.
    """
    check_args(spec, args, (*COMMON_ARGS, "prompt_source"))
    annotations, images = _locations(spec, data_root, args)
    explain_path, tf_path = annotations / EXPLAIN_FILE, annotations / TF_FILE
    prompt_source = str(args.get("prompt_source", "task"))
    if prompt_source not in ("task", "dataset"):
        raise SpotfakeError(
            f"task {spec.name}: prompt_source must be 'task' or 'dataset', got {prompt_source!r}"
        )
    truth = image_truth(read_tf_questions(tf_path), tf_path)
    samples = []
    for entry in read_explanations(explain_path):
        where = f"image {entry.image!r}"
        known = truth.get(entry.image)
        if known is not None and known[0] != "fake":
            raise SpotfakeError(f"{explain_path} {where}: annotated as a fake but labelled real in {tf_path}")
        prompt = strip_image_tokens(entry.question) if prompt_source == "dataset" else _task_prompt(spec)
        samples.append(
            Sample(
                id=entry.image,
                label="fake",
                prompt=prompt,
                question=prompt if prompt_source == "dataset" else None,
                images=(safe_join(images, entry.image, source=explain_path, where=where),),
                references=(entry.reference,) if entry.reference else (),
                category=known[1] if known is not None else None,
            )
        )
    return TaskData(samples, files=[explain_path, tf_path], notes={"prompt_source": prompt_source})


def _task_prompt(spec: TaskSpec) -> str:
    if not spec.prompt:
        raise SpotfakeError(
            f"{spec.source}: task {spec.name} needs a 'prompt' (the real/fake question to ask)"
        )
    return spec.prompt.strip()


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)
