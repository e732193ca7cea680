"""EvalGEN (DDA, Chen et al., NeurIPS 2025; Hugging Face ``Junwei-Xi/EvalGEN``): fakes only, one folder per
generator (Flux, GoT, Infinity, NOVA, OmniGen), several images per GenEval prompt named ``<prompt>_<k>.jpg``.

DDA's protocol (its paper's Appendix E, as ``roy-ch/Dual-Data-Alignment#15`` quotes and applies it) scores the
first image of every prompt (``_0``), 553 per generator; ``index=all`` keeps every image. With no reals, the
accuracy DDA reports is the fake accuracy. The label map is declared like any other (``fake_only``: every
generator folder means fake), so a folder that is not declared is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import check_args, require_data_root
from spotfake.tasks.readers.imagefolder import list_images
from spotfake.tasks.readers.labelmap import LABEL_ARGS, label_map
from spotfake.tasks.readers.published import (
    check_subfolders,
    choose,
    count_differences,
    counts_by,
    image_sample,
    listing,
    require_prompt,
)

EVALGEN_GENERATORS = ("Flux", "GoT", "Infinity", "NOVA", "OmniGen")
"""The five generators as ``roy-ch/Dual-Data-Alignment#15`` lists them (3 diffusion, 2 autoregressive)."""
EVALGEN_PROMPTS = 553
"""Images with index 0 per generator: one per GenEval prompt (issue #15: 553 each, 2,765 in all)."""
EVALGEN_ARGS = ("generators", "index", "cache_dir", *LABEL_ARGS)
_INDEX = re.compile(r"_(\d+)$")


def read_evalgen(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """EvalGEN (task args ``generators``, ``index``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, EVALGEN_ARGS)
    labels = label_map(spec, args, fake_only=True)
    prompt = require_prompt(spec)
    given = require_data_root(spec, data_root, "the unzipped EvalGEN folder holding one folder per generator")
    folder = given / "EvalGEN" if (given / "EvalGEN").is_dir() else given
    index = _index(spec, args.get("index", "0"))
    wanted = choose(spec, "generators", args.get("generators"), EVALGEN_GENERATORS)
    found = check_subfolders(
        folder, EVALGEN_GENERATORS, wanted, task=spec.name, what="EvalGEN's 5 generators", narrow="generators"
    )
    labels.check_names(found, folder=folder)
    samples: list[Sample] = []
    unindexed = 0
    for generator in wanted:
        label = labels.label(generator, source=folder, where=f"folder {generator!r}")
        if label is None:
            continue
        for parts in list_images(folder / generator):
            match = _INDEX.search(Path(parts[-1]).stem)
            if match is None:
                unindexed += 1
            if index is not None and (match is None or int(match.group(1)) != index):
                continue
            path = folder / generator / Path(*parts)
            samples.append(image_sample(given, path, label, prompt, category=generator))
    if not samples:
        raise SpotfakeError(
            f"task {spec.name}: no image named <prompt>_{index}.<ext> below {folder} (index=all keeps every image)"
        )
    counts = counts_by(samples)
    published = {g: {"fake": EVALGEN_PROMPTS} for g in EVALGEN_GENERATORS} if index == 0 else {}
    notes = {
        "label_map": labels.declared,
        "index": "all" if index is None else index,
        "counts": counts,
        "images_without_index": unindexed,
        "count_differences": count_differences(counts, published),
    }
    return TaskData(samples, files=[listing("evalgen", given, samples, args.get("cache_dir"))], notes=notes)


def _index(spec: TaskSpec, value: Any) -> int | None:
    """The image index to keep per prompt (``all``: None)."""
    text = str(value).strip()
    if text == "all":
        return None
    if not text.isdigit():
        raise SpotfakeError(
            f"task {spec.name}: index must be a number (0 is DDA's protocol) or all, got {text!r}"
        )
    return int(text)
