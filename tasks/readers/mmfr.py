"""MMFR-Dataset's evaluation sets (FakeReasoning; Gao et al. 2025, ``github.com/PRIS-CV/FakeReasoning``) with
their reasoning annotations as references.

Layout (README): ``evaluation_sets/<generator>/{0_real,1_fake,<generator>_reasoning.json}`` for 10 generators.
Each ``<generator>_reasoning.json`` maps an image name, relative to ``evaluation_sets/``, to its forgery
attributes (``{attribute: text or null}``). As the authors' ``LLaVA/forgery_eval/eval.py`` does, the label is
the ``0_real``/``1_fake`` part of the name (declared ``labels``), and the reference is the non-null attribute
texts in sorted attribute order, joined by spaces. The prompt is the authors' question.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    check_args,
    read_json_file,
    relative_id,
    require_data_root,
    require_dict,
    safe_join,
)
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, label_map
from spotfake.tasks.readers.published import check_subfolders, choose, counts_by, require_dir

GENERATORS = (
    "stablediffusion",
    "dalle3",
    "if",
    "midjourney",
    "kandinsky",
    "pixart",
    "flux",
    "gpt4o",
    "styleganxl",
    "gigagan",
)
"""The ``vals`` of the authors' ``eval.py``, in its order."""
ARGS = ("generators", *LABEL_ARGS)


def _label(name: str, labels: LabelMap, source: Path) -> Label:
    """The label of an image name: its one declared folder part (``0_real`` or ``1_fake``)."""
    parts = [p for p in PurePosixPath(name).parts[:-1] if labels.knows(p)]
    if len(parts) != 1:
        raise SpotfakeError(
            f"{source}: image {name!r} has {'no' if not parts else 'more than one'} label folder of the declared "
            f"map ({labels.declared}); refused rather than guessed"
        )
    label = labels.label(parts[0], source=source, where=f"image {name!r}")
    if label is None:
        raise SpotfakeError(f"{source}: image {name!r} is in a dropped folder; MMFR has no such folder")
    return label


def reference_of(attributes: dict[str, Any], source: Path, name: str) -> str:
    """The non-null attribute texts in sorted attribute order, joined by spaces (the authors' ``gt``)."""
    texts = []
    for key in sorted(attributes):
        value = attributes[key]
        if value is None:
            continue
        if not isinstance(value, str):
            raise SpotfakeError(
                f"{source}: image {name!r} attribute {key!r} must be text or null, got {value!r}"
            )
        texts.append(value)
    return " ".join(texts)


def read_mmfr(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """MMFR evaluation sets (task args ``generators``, ``labels``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    if not spec.prompt:
        raise SpotfakeError(f"{spec.source}: task {spec.name} needs a 'prompt'")
    root = require_data_root(spec, data_root, "the MMFR-Dataset folder holding evaluation_sets/")
    sets = require_dir(root / "evaluation_sets", task=spec.name, what="MMFR's evaluation_sets/<generator>/")
    wanted = choose(spec, "generators", args.get("generators"), GENERATORS)
    check_subfolders(
        sets, GENERATORS, wanted, task=spec.name, what="MMFR's 10 evaluation sets", narrow="generators"
    )
    samples: list[Sample] = []
    files: list[Path] = []
    for generator in wanted:
        source = sets / generator / f"{generator}_reasoning.json"
        annotations = require_dict(
            read_json_file(source, what=f"MMFR's {generator}_reasoning.json"), source, "image -> attributes"
        )
        files.append(source)
        for name, attributes in annotations.items():
            attributes = require_dict(attributes, source, f"attributes of {name!r}")
            label = _label(name.replace("\\", "/"), labels, source)
            reference = reference_of(attributes, source, name)
            samples.append(
                Sample(
                    id=relative_id(name),
                    label=label,
                    prompt=spec.prompt.strip(),
                    images=(safe_join(sets, name, source=source, where=f"image {name!r}"),),
                    references=(reference,) if reference else (),
                    category=generator,
                )
            )
    counts = counts_by(samples)
    notes = {
        "label_map": labels.declared,
        "counts": counts,
        "unbalanced_generators": sorted(k for k, v in counts.items() if v["real"] != v["fake"]),
    }
    return TaskData(samples, files=files, notes=notes)
