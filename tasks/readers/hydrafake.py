"""HydraFake's hierarchical test splits (Veritas; Tan et al., ICLR 2026, ``github.com/EricTan7/Veritas``).

Layout (README): images in ``test/<generator>/{0_real,1_fake}/``, and per test subset a JSON list in
``jsons/test/{id,cm,cf,cd}/<subset>.json`` (in-domain, cross-model, cross-forgery, cross-domain). The subsets
are those of the authors' ``swift/llm/dataset/dataset/data_utils.py``; their DeepfakeBench loader
(``DeepfakeBench/training/dataset/json_dataset.py``) reads each item's ``images`` (a path or a list of
paths) and ``label``. ``labels`` declares both the JSON labels (0 real, 1 fake, as DeepfakeBench's
``label_dict`` and ``classnames: ["real face", "fake face"]`` use them) and the folders ``0_real``/``1_fake``:
an image whose JSON label and folder disagree is refused.

Paths in the JSON files are resolved below the data root; the README says they may have to be edited to the
local copy, so a leading part naming the data root's own folder (``hydrafake/``) or ``strip_prefix`` is
removed first, and an absolute path must lie inside the data root. Category = ``<split>/<subset>`` (a subset
name, ``infiniteyou``, appears in two splits); metadata ``split`` is the breakdown.
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
    require_list,
    safe_join,
)
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, agree, label_map
from spotfake.tasks.readers.published import choose, counts_by, require_dir

SUBSETS: dict[str, tuple[str, ...]] = {
    "id": ("FaceForensics++", "facevid2vid", "Hallo2", "StyleGAN", "Midjourney"),
    "cm": ("AdobeFirefly", "Flux11Pro", "StarryAI", "MAGI", "HART", "Infinity"),
    "cf": ("starganv2", "iclight", "codeformer", "infiniteyou", "pulid", "faceadapter"),
    "cd": ("deepfacelab", "infiniteyou", "dreamina", "hailuo", "gpt4o", "FFIW"),
}
ARGS = ("splits", "strip_prefix", *LABEL_ARGS)


def _relative(path: str, root: Path, strip: str) -> str:
    """A JSON image path as a path below the data root (see the module docstring)."""
    text = path.strip().replace("\\", "/")
    if Path(text).is_absolute():
        if not Path(text).is_relative_to(root):
            return text  # refused by safe_join with the file and item named
        return Path(text).relative_to(root).as_posix()
    for prefix in (strip.strip("/"), root.name):
        if prefix and (text == prefix or text.startswith(prefix + "/")):
            return text[len(prefix) + 1 :]
    return text


def _folder_label(rel: str, labels: LabelMap, source: Path, where: str) -> Label | None:
    found = [
        p for p in PurePosixPath(rel).parts[:-1] if p.casefold() in ("0_real", "1_fake") and labels.knows(p)
    ]
    return labels.label(found[-1], source=source, where=where) if found else None


def read_hydrafake(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """HydraFake test splits (task args ``splits``, ``strip_prefix``, ``labels``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    if not spec.prompt:
        raise SpotfakeError(f"{spec.source}: task {spec.name} needs a 'prompt'")
    root = require_data_root(
        spec, data_root, "the HydraFake folder holding test/ and jsons/test/{id,cm,cf,cd}/"
    )
    jsons = require_dir(root / "jsons" / "test", task=spec.name, what="HydraFake's jsons/test/{id,cm,cf,cd}/")
    strip = str(args.get("strip_prefix") or "")
    samples: list[Sample] = []
    files: list[Path] = []
    for split in choose(spec, "splits", args.get("splits"), tuple(SUBSETS)):
        for subset in SUBSETS[split]:
            source = jsons / split / f"{subset}.json"
            if not source.is_file():
                raise SpotfakeError(
                    f"task {spec.name}: annotation file not found: {source} (HydraFake's {split} split); "
                    "choose other splits with --task-args splits=..."
                )
            files.append(source)
            items = require_list(
                read_json_file(source, what=f"HydraFake's {split}/{subset}.json"), source, "items"
            )
            for index, item in enumerate(items):
                where = f"item {index}"
                if not isinstance(item, dict) or "images" not in item or "label" not in item:
                    raise SpotfakeError(f"{source} {where}: expected an object with 'images' and 'label'")
                label = labels.label(item["label"], source=source, where=where)
                paths = item["images"] if isinstance(item["images"], list) else [item["images"]]
                for path in paths:
                    if not isinstance(path, str):
                        raise SpotfakeError(f"{source} {where}: image path must be text, got {path!r}")
                    rel = _relative(path, root, strip)
                    by_folder = _folder_label(rel, labels, source, where)
                    if label is None:
                        continue
                    if by_folder is not None:
                        agree(spec.name, label, by_folder, source=source, where=where,
                              first_from=f"label {item['label']!r}", second_from=f"its folder in {rel!r}")  # fmt: skip
                    samples.append(
                        Sample(
                            id=f"{split}/{subset}/{relative_id(rel)}",
                            label=label,
                            prompt=spec.prompt.strip(),
                            images=(safe_join(root, rel, source=source, where=where),),
                            category=f"{split}/{subset}",
                            metadata={"split": split},
                        )
                    )
    notes = {"label_map": labels.declared, "counts": counts_by(samples)}
    return TaskData(samples, files=files, notes=notes)
