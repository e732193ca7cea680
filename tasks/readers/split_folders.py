"""Test sets published as one ``0_real``/``1_fake`` pair per subset: AIGIBench and WildRF.

- **AIGIBench** (Li et al., NeurIPS 2025 D&B, ``github.com/HorizonTEL/AIGIBench``): ``test/<subset>/{0_real,1_fake}``
  for 25 subsets (the names of the authors' ``eval_config.py``), in five groups. Category = subset; metadata
  ``group`` = its group.
- **WildRF** (Cavia et al., LaDeDa): ``{train,val}/{0_real,1_fake}`` and ``test/{reddit,twitter,facebook}/
  {0_real,1_fake}``. Category = platform for the test split.

Each label folder is read through the task's declared label map (:mod:`tasks.readers.labelmap`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import check_args, choice_arg, require_data_root
from spotfake.tasks.readers.labelmap import LABEL_ARGS, label_map
from spotfake.tasks.readers.published import (
    check_subfolders,
    choose,
    count_differences,
    counts_by,
    image_sample,
    labelled_images,
    listing,
    require_dir,
    require_prompt,
)

AIGIBENCH_GROUPS: dict[str, tuple[str, ...]] = {
    "GAN noise-to-image": ("ProGAN", "StyleGAN3", "StyleGAN-XL", "StyleSwim", "R3GAN", "WFIR"),
    "Diffusion text-to-image": ("SD3", "SDXL", "FLUX1-dev", "Midjourney", "DALLE-3", "Imagen3", "GLIDE"),
    "GAN deepfake": ("BlendFace", "E4S", "FaceSwap", "InSwap", "SimSwap"),
    "Diffusion personalized": ("BLIP", "Infinite-ID", "InstantID", "IP-Adapter", "PhotoMaker"),
    "Open platforms": ("CommunityAI", "SocialRF"),
}
"""The five groups of AIGIBench's test set (README) and their subsets (folder names as in the authors'
``detector_codes/CNNDetection-master/eval_config.py``)."""
AIGIBENCH_SUBSETS: tuple[str, ...] = tuple(s for group in AIGIBENCH_GROUPS.values() for s in group)
GROUP_OF = {subset: group for group, subsets in AIGIBENCH_GROUPS.items() for subset in subsets}
AIGIBENCH_PUBLISHED: dict[str, dict[str, int]] = {
    name: {"real": n, "fake": n}
    for name, n in {
        "CommunityAI": 6000,
        "SocialRF": 3000,
        "FaceSwap": 4000,
        "InSwap": 4000,
        "WFIR": 1000,
    }.items()
}
"""The counts the README corrects ("the number of real images and generated images are consistent")."""

WILDRF_PLATFORMS = ("reddit", "twitter", "facebook")
WILDRF_SPLITS = ("test", "train", "val")
AIGIBENCH_ARGS = ("subsets", "subdir", "cache_dir", *LABEL_ARGS)
WILDRF_ARGS = ("split", "platforms", "cache_dir", *LABEL_ARGS)


def read_aigibench(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """AIGIBench's test set (task args ``subsets``, ``subdir``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, AIGIBENCH_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(spec, data_root, "the AIGIBench folder holding test/<subset>/{0_real,1_fake}")
    test = root / str(args.get("subdir", "test"))
    require_dir(test, task=spec.name, what="AIGIBench's test/<subset>/{0_real,1_fake}", hint="; set subdir=.")
    wanted = choose(spec, "subsets", args.get("subsets"), AIGIBENCH_SUBSETS)
    check_subfolders(
        test, AIGIBENCH_SUBSETS, wanted, task=spec.name, what="AIGIBench's 25 test subsets", narrow="subsets"
    )
    samples: list[Sample] = []
    for subset in wanted:
        for label, path in labelled_images(test / subset, labels):
            samples.append(
                image_sample(root, path, label, prompt, category=subset, metadata={"group": GROUP_OF[subset]})
            )
    counts = counts_by(samples)
    notes = {
        "label_map": labels.declared,
        "counts": counts,
        "count_differences": count_differences(counts, AIGIBENCH_PUBLISHED),
        "unbalanced_subsets": sorted(k for k, v in counts.items() if v["real"] != v["fake"]),
    }
    return TaskData(samples, files=[listing("aigibench", root, samples, args.get("cache_dir"))], notes=notes)


def read_wildrf(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """WildRF (task args ``split``, ``platforms``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, WILDRF_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(spec, data_root, "the WildRF folder holding {train,val,test}")
    split = choice_arg(spec, "split", args.get("split", "test"), WILDRF_SPLITS)
    folder = require_dir(root / split, task=spec.name, what=f"WildRF's {split}/ split")
    samples: list[Sample] = []
    if split != "test":
        for label, path in labelled_images(folder, labels):
            samples.append(image_sample(root, path, label, prompt, category=None))
    else:
        wanted = choose(spec, "platforms", args.get("platforms"), WILDRF_PLATFORMS)
        check_subfolders(
            folder,
            WILDRF_PLATFORMS,
            wanted,
            task=spec.name,
            what="WildRF's test platforms",
            narrow="platforms",
        )
        for platform in wanted:
            for label, path in labelled_images(folder / platform, labels):
                samples.append(image_sample(root, path, label, prompt, category=platform))
    notes = {"label_map": labels.declared, "split": split, "counts": counts_by(samples)}
    return TaskData(samples, files=[listing("wildrf", root, samples, args.get("cache_dir"))], notes=notes)
