"""FakeClue JSON (Wen et al., "Spot the Fake", arXiv:2503.14905): one real/fake question per image,
with the artifact explanation FakeVLM was trained to give as the reference.

``<data-root>/data_json/<split>.json`` is a JSON list of records::

    {"image": "genimage/fake/x.png", "label": 0, "cate": "animal", "width": W, "height": H,
     "conversations": [{"from": "human", "value": "<image>Does the image looks real/fake?"},
                       {"from": "gpt", "value": "This is a fake image. ..."}]}

``label`` 0 = fake, 1 = real. Images live under ``<data-root>/<split>/<image>``. The sample id is the
``image`` path exactly as written; the ``source`` breakdown is its first path component.
"""

from __future__ import annotations

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

ARGS = ("split", "annotations", "image_dir")
LAYOUT = "a FakeClue download with data_json/<split>.json and the images under <split>/"
_LABELS: dict[Any, Label] = {0: "fake", 1: "real", "0": "fake", "1": "real", "fake": "fake", "real": "real"}


def parse_label(value: Any, *, source: Path | str, where: str) -> Label:
    """FakeClue's label: 0 = fake, 1 = real (the strings "fake"/"real" are accepted too)."""
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(value, bool) or key not in _LABELS:
        raise SpotfakeError(f"{source} {where}: label must be 0 (fake) or 1 (real), got {value!r}")
    return _LABELS[key]


def conversation_turns(conversations: Any, *, source: Path | str, where: str) -> tuple[str, str]:
    """The first human turn and the model turn that answers it: ``(question, answer)``."""
    if not isinstance(conversations, list):
        raise SpotfakeError(f"{source} {where}: 'conversations' must be a list of turns")
    question: str | None = None
    for turn in conversations:
        if not isinstance(turn, dict) or not isinstance(turn.get("value"), str):
            raise SpotfakeError(f"{source} {where}: each turn needs 'from' and a text 'value', got {turn!r}")
        speaker = str(turn.get("from", "")).lower()
        if question is None and speaker in ("human", "user"):
            question = turn["value"]
        elif question is not None and speaker in ("gpt", "assistant"):
            return question, turn["value"]
    raise SpotfakeError(f"{source} {where}: 'conversations' needs a human turn followed by a gpt turn")


FAKECLUE_KEYS = frozenset({"image", "label", "cate", "width", "height", "conversations"})
"""FakeClue's own record keys; any other text field (e.g. ``generator``) is kept as sample metadata."""


def source_of(image: str) -> str | None:
    """The first path component of an image path (FakeClue's sub-dataset: genimage, ff++, doc, ...)."""
    parts = [p for p in image.replace("\\", "/").split("/") if p and p != "."]
    return parts[0] if len(parts) > 1 else None


def fakeclue_sample(
    record: Any, where: str, *, source: Path | str, image_dir: Path, prompt: str | None = None
) -> Sample:
    """One FakeClue record as a sample. ``prompt`` replaces the record's question when given."""
    image = get_field(record, "image", str, source=source, where=where)
    path = safe_join(image_dir, image, source=source, where=where)
    where = f"{where} (image {image!r})"
    label = parse_label(
        get_field(record, "label", (int, str), source=source, where=where), source=source, where=where
    )
    question, answer = conversation_turns(record.get("conversations"), source=source, where=where)
    category = record.get("cate")
    if category is not None and not isinstance(category, str):
        raise SpotfakeError(f"{source} {where}: 'cate' must be a string, got {category!r}")
    src = source_of(image)
    metadata = {"source": src} if src else {}
    metadata.update(
        {k: v for k, v in record.items() if k not in FAKECLUE_KEYS and isinstance(v, str) and v.strip()}
    )
    return Sample(
        id=relative_id(image),
        label=label,
        prompt=prompt if prompt else strip_image_tokens(question),
        images=(path,),
        references=(answer.strip(),) if answer.strip() else (),
        category=category or None,
        metadata=metadata,
    )


def read_fakeclue(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for FakeClue-format JSON (task args: ``split``, ``annotations``, ``image_dir``)."""
    check_args(spec, args, ARGS)
    root = require_data_root(spec, data_root, LAYOUT)
    split = str(args.get("split", "test"))
    path = arg_path(root, args.get("annotations", "data_json/{split}.json"), split)
    image_dir = arg_path(root, args.get("image_dir", "{split}"), split)
    records = require_list(
        read_json_file(path, what=f"FakeClue annotations for split {split!r}"), path, "records"
    )
    samples: list[Sample] = []
    first_seen: dict[str, int] = {}
    for index, record in enumerate(records):
        sample = fakeclue_sample(
            record, f"record [{index}]", source=path, image_dir=image_dir, prompt=spec.prompt
        )
        if sample.id in first_seen:
            raise SpotfakeError(
                f"{path} record [{index}]: image {sample.id!r} already used by record [{first_seen[sample.id]}]; "
                "sample ids are image paths and must be unique"
            )
        first_seen[sample.id] = index
        samples.append(sample)
    if not samples:
        raise SpotfakeError(f"{path}: no records (expected a JSON list of FakeClue records)")
    return TaskData(samples=samples, files=[path], notes={"split": split})
