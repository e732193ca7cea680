"""FakeBench's FakeClass detection track (Li et al., IEEE TIFS 2025, ``github.com/Yixuan423/FakeBench``).

``Evaluation/FakeClass.json`` lists 6,000 images, each with one of three questions ("What is the authenticity
of this image, fake or real?", "Is this a fake image, yes or no?", "Is this a real image, yes or no?"), its
``answer`` (fake/real/yes/no) and ``authenticity`` (0 = fake, 1 = real, the declared ``labels``). The images
are the download's ``FakeBench_images/{fake_images,real_images}/<image_id>``, as the authors' ``eval_FakeClass.py``
reads them.

Three sources say each image's truth: ``authenticity`` through the declared map, the published ``answer`` to
its question, and the folder the image is in. They must agree, else the reader refuses in one line naming
the record (an inverted map fails on the first one). Every adapter asks FakeBench's own question
(``Sample.question``); answers are read as yes/no relative to the question, or as a direct real/fake verdict.
Category = the generator in the file name (``dalle3-01134.png`` -> ``dalle3``), ``real`` for reals.
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
    get_field,
    read_json_file,
    require_data_root,
    require_list,
    safe_join,
)
from spotfake.tasks.readers.labelmap import LABEL_ARGS, agree, label_map
from spotfake.tasks.readers.published import count_differences, counts_by

ARGS = ("annotations", "image_dir", *LABEL_ARGS)
FOLDERS: dict[Label, str] = {"fake": "fake_images", "real": "real_images"}
GENERATOR = re.compile(r"^(.+?)-\d+\.\w+$")
GENERATORS = (
    "FuseDream",
    "Glide",
    "proGAN",
    "VQDM",
    "sd",
    "dalle3",
    "cogview2",
    "midjourney",
    "dalle2",
    "styleGAN",
)
PUBLISHED = {**{g: {"fake": 300} for g in GENERATORS}, "real": {"real": 3000}}
"""The README's counts (3,000 fakes, 300 from each of 10 generators, and 3,000 reals), by file-name prefix."""


def answer_label(question: str, answer: str) -> Label | None:
    """The truth a published answer states for its question (None when it states none)."""
    text, q = answer.strip().lower(), question.lower()
    if text in ("fake", "real"):
        return text  # type: ignore[return-value]
    if text in ("yes", "no"):
        asked: Label | None = "fake" if "fake image" in q else "real" if "real image" in q else None
        if asked is None:
            return None
        other: Label = "real" if asked == "fake" else "fake"
        return asked if text == "yes" else other
    return None


def yes_means(question: str) -> Label | None:
    """What "yes" says for a yes/no question (None for "fake or real?")."""
    q = question.lower()
    if "yes or no" not in q:
        return None
    return "fake" if "fake image" in q else "real"


def read_fakebench(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """FakeClass (task args ``annotations``, ``image_dir``, ``labels``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    root = require_data_root(
        spec, data_root, "the FakeBench checkout holding Evaluation/ and FakeBench_images/"
    )
    source = arg_path(root, args.get("annotations", "Evaluation/FakeClass.json"))
    records = require_list(
        read_json_file(source, what="FakeBench's FakeClass.json"), source, "FakeClass records"
    )
    images = arg_path(root, args.get("image_dir", "FakeBench_images"))
    samples: list[Sample] = []
    for index, record in enumerate(records):
        where = f"record {index}"
        image_id = get_field(record, "image_id", str, source=source, where=where)
        question = get_field(record, "question", str, source=source, where=where).strip()
        answer = get_field(record, "answer", str, source=source, where=where)
        raw = get_field(record, "authenticity", (int, str), source=source, where=where)
        where = f"record {index} ({image_id})"
        label = labels.label(raw, source=source, where=where)
        if label is None:
            continue
        stated = answer_label(question, answer)
        if stated is None:
            raise SpotfakeError(
                f"{source} {where}: answer {answer!r} to {question!r} states neither real nor fake"
            )
        agree(spec.name, label, stated, source=source, where=where,
              first_from=f"authenticity {raw!r}", second_from=f"answer {answer!r}")  # fmt: skip
        path = safe_join(images / FOLDERS[label], image_id, source=source, where=where)
        other_label: Label = "real" if label == "fake" else "fake"
        elsewhere = safe_join(images / FOLDERS[other_label], image_id, source=source, where=where)
        if elsewhere.exists() and not path.exists():
            agree(spec.name, label, other_label, source=source, where=where,
                  first_from=f"authenticity {raw!r}", second_from=f"the folder {FOLDERS[other_label]}/")  # fmt: skip
        found = GENERATOR.match(image_id)
        category = "real" if label == "real" else (found.group(1) if found else "unknown")
        samples.append(
            Sample(
                id=image_id,
                label=label,
                prompt=question,
                images=(path,),
                category=category,
                yes_means=yes_means(question),
                question=question,
                metadata={"asks": "yes/no" if yes_means(question) else "fake or real"},
            )
        )
    counts = counts_by(samples)
    notes = {
        "label_map": labels.declared,
        "counts": counts,
        "count_differences": count_differences(counts, PUBLISHED),
    }
    return TaskData(samples, files=[source], notes=notes)
