"""Co-Spy-Bench (Cheng et al., CVPR 2025, ``github.com/Megum1/CO-SPY``): fakes of 22 generators from the captions of
five real datasets, as the authors' ``data/test/Co-Spy-Bench/download.py`` lays them out::

    <data-root>/synthetic/<source>/<org>@<model>/*.png        # source: mscoco flickr cc3m textcaps sbu
    <data-root>/real_image_examples/{CC3M,SBU,TextCaps}/*.jpg # 2,000 reals each (the download's examples)

The MSCOCO and Flickr reals are not in the download (the authors read MSCOCO val2017 and the Hub's
``nlphuji/flickr30k``): ``mscoco_reals`` and ``flickr_reals`` name folders of them. ``labels`` declares the two
top folders. ``pairing=cospy`` keeps what the authors' ``CoSpyBenchTestDataset`` scores: per source and
generator the first N fakes and reals in sorted order, N = min(2000, reals, fakes); ``pairing=all`` keeps all.
Category = the model (``stable-diffusion-v1-4``); metadata ``source`` (the caption source) is the breakdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import arg_path, check_args, choice_arg, require_data_root
from spotfake.tasks.readers.imagefolder import list_images
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, label_map
from spotfake.tasks.readers.published import (
    check_subfolders,
    choose,
    counts_by,
    image_sample,
    listing,
    require_dir,
    require_prompt,
)

SOURCES = ("mscoco", "flickr", "cc3m", "textcaps", "sbu")
EXAMPLE_REALS = {"cc3m": "CC3M", "sbu": "SBU", "textcaps": "TextCaps"}
MODELS = (
    "CompVis@ldm-text2im-large-256", "CompVis@stable-diffusion-v1-4", "runwayml@stable-diffusion-v1-5",
    "segmind@SSD-1B", "segmind@tiny-sd", "segmind@SegMoE-SD-4x2-v0", "segmind@small-sd",
    "stabilityai@stable-diffusion-2-1", "stabilityai@stable-diffusion-3-medium-diffusers", "stabilityai@sdxl-turbo",
    "stabilityai@stable-diffusion-2", "stabilityai@stable-diffusion-xl-base-1.0",
    "playgroundai@playground-v2.5-1024px-aesthetic", "playgroundai@playground-v2-1024px-aesthetic",
    "playgroundai@playground-v2-512px-base", "playgroundai@playground-v2-256px-base",
    "PixArt-alpha@PixArt-XL-2-1024-MS", "PixArt-alpha@PixArt-XL-2-512x512",
    "latent-consistency@lcm-lora-sdxl", "latent-consistency@lcm-lora-sdv1-5",
    "black-forest-labs@FLUX.1-schnell", "black-forest-labs@FLUX.1-dev",
)  # fmt: skip
"""``CoSpyBench_MODEL_LIST`` of the authors' ``dataSets/__init__.py``."""
NUM_REAL = 2000
ARGS = ("sources", "generators", "pairing", "mscoco_reals", "flickr_reals", "cache_dir", *LABEL_ARGS)


def _top(labels: LabelMap, meaning: str, task: str) -> str:
    values = labels.values(meaning)  # type: ignore[arg-type]
    if len(values) != 1:
        raise SpotfakeError(f"task {task}: labels must declare one {meaning} folder ({labels.declared})")
    return values[0]


def _reals(spec: TaskSpec, root: Path, source: str, labels: LabelMap, args: dict[str, Any]) -> Path:
    if source in EXAMPLE_REALS:
        folder = root / _top(labels, "real", spec.name) / EXAMPLE_REALS[source]
        return require_dir(folder, task=spec.name, what=f"Co-Spy-Bench's {source} reals")
    given = args.get(f"{source}_reals")
    if not given:
        raise SpotfakeError(
            f"task {spec.name}: the {source} reals are not in Co-Spy-Bench's download; set --task-args "
            f"{source}_reals=<folder> (MSCOCO val2017 / Flickr30k images) or choose sources=cc3m+textcaps+sbu"
        )
    return require_dir(arg_path(root, given), task=spec.name, what=f"the {source} reals ({source}_reals)")


def read_cospy(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Co-Spy-Bench (task args ``sources``, ``generators``, ``pairing``, ``mscoco_reals``, ``flickr_reals``)."""
    check_args(spec, args, ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(
        spec, data_root, "the Co-Spy-Bench folder holding synthetic/ and real_image_examples/"
    )
    synthetic = require_dir(
        root / _top(labels, "fake", spec.name), task=spec.name, what="synthetic/<source>/<model>"
    )
    pairing = choice_arg(spec, "pairing", args.get("pairing", "cospy"), ("cospy", "all"))
    sources = choose(spec, "sources", args.get("sources"), SOURCES)
    models = choose(spec, "generators", args.get("generators"), MODELS)
    check_subfolders(
        synthetic, SOURCES, sources, task=spec.name, what="Co-Spy-Bench's caption sources", narrow="sources"
    )
    samples: list[Sample] = []
    for source in sources:
        folder = synthetic / source
        check_subfolders(
            folder, MODELS, models, task=spec.name, what="Co-Spy-Bench's 22 generators", narrow="generators"
        )
        reals = _reals(spec, root, source, labels, args)
        real_files = [reals.joinpath(*p) for p in list_images(reals)]
        fakes = {
            m: [folder / m / p[-1] for p in list_images(folder / m) if len(p) == 1 and p[-1].endswith(".png")]
            for m in models
        }
        if pairing == "cospy":
            counts = {m: min(NUM_REAL, len(real_files), len(files)) for m, files in fakes.items()}
            fakes = {m: files[: counts[m]] for m, files in fakes.items()}
            real_files = real_files[: max(counts.values(), default=0)]
        meta = {"source": source}
        for path in real_files:  # a reals folder given as an argument may lie outside the data root
            inside = path.is_relative_to(root)
            sid = (
                path.relative_to(root).as_posix()
                if inside
                else f"{source}_reals/{path.relative_to(reals).as_posix()}"
            )
            samples.append(Sample(sid, "real", prompt, (path,), category="real", metadata=meta))
        for model, files in fakes.items():
            name = model.split("@", 1)[1]
            samples += [image_sample(root, p, "fake", prompt, category=name, metadata=meta) for p in files]
    notes = {"label_map": labels.declared, "pairing": pairing, "counts": counts_by(samples)}
    return TaskData(samples, files=[listing("cospy", root, samples, args.get("cache_dir"))], notes=notes)
