"""Test sets published as one folder of fakes per generator beside a folder of reals: DRCT-2M, Synthbuster
and SynthWildX. Category = generator (``real`` for the reals); the owners score each generator's fakes
against all the reals, which ``bacc_all_reals`` and the one-group-vs-all-reals AUC reproduce.

- **DRCT-2M** (Chen et al., ICML 2024; ``DRCT:data/dataset.py`` ``load_DRCT_2M``): reals
  ``MSCOCO/{train2017,val2017}/*``, fakes ``DRCT-2M/<generator>/{train2017,val2017}/*`` for 16 generators;
  ``val2017`` is the test split. ``labels`` declares the two top folders (``MSCOCO:real|DRCT-2M:fake``).
- **Synthbuster** (Bammey 2023): ``synthbuster/<generator>/*.png`` for 9 generators and GRIP's RAISE-1k reals
  in ``synthbuster/real_RAISE_1k/``; ``labels`` declares every folder. With ``csv`` (GRIP's ``filename,typ``
  list, e.g. ``commercial_tools.csv``) the samples are the CSV's rows, ``typ=real`` real.
- **SynthWildX** (Cozzolino et al. 2024): ``<typ>/<file>`` as GRIP's ``download_synthwildx.py`` writes it
  from ``list.csv`` (``url,filename,typ``); rows whose image was never downloaded are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    choice_arg,
    read_csv_rows,
    require_data_root,
    safe_join,
)
from spotfake.tasks.readers.imagefolder import list_images
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, agree, label_map
from spotfake.tasks.readers.published import (
    check_subfolders,
    choose,
    count_differences,
    counts_by,
    image_sample,
    listing,
    require_dir,
    require_prompt,
    visible_dirs,
)

DRCT_GENERATORS: dict[str, str] = {
    "ldm-text2im-large-256": "SD variants",
    "stable-diffusion-v1-4": "SD variants",
    "stable-diffusion-v1-5": "SD variants",
    "stable-diffusion-2-1": "SD variants",
    "stable-diffusion-xl-base-1.0": "SD variants",
    "stable-diffusion-xl-refiner-1.0": "SD variants",
    "sd-turbo": "Turbo variants",
    "sdxl-turbo": "Turbo variants",
    "lcm-lora-sdv1-5": "LCM variants",
    "lcm-lora-sdxl": "LCM variants",
    "sd-controlnet-canny": "ControlNet variants",
    "sd21-controlnet-canny": "ControlNet variants",
    "controlnet-canny-sdxl-1.0": "ControlNet variants",
    "stable-diffusion-inpainting": "DR variants",
    "stable-diffusion-2-inpainting": "DR variants",
    "stable-diffusion-xl-1.0-inpainting-0.1": "DR variants",
}
"""DRCT-2M's 16 generator folders (``CLASS2LABEL_MAPPING``, in its order) and the family of DRCT's Table 1."""
SYNTHBUSTER_PUBLISHED = 1000
SYNTHWILDX_PUBLISHED = 500
DRCT_ARGS = ("split", "generators", "cache_dir", *LABEL_ARGS)
SYNTHBUSTER_ARGS = ("csv", "cache_dir", *LABEL_ARGS)
SYNTHWILDX_ARGS = ("csv", "missing", "cache_dir", *LABEL_ARGS)


def _one(labels: LabelMap, meaning: str, task: str) -> str:
    values = labels.values(meaning)  # type: ignore[arg-type]
    if len(values) != 1:
        raise SpotfakeError(
            f"task {task}: labels must declare exactly one {meaning} folder ({labels.declared})"
        )
    return values[0]


def _folder(parent: Path, name: str) -> Path:
    """``parent/name`` where ``name`` was case-folded by the label map: the folder as spelled on disk."""
    for child in parent.iterdir() if parent.is_dir() else ():
        if child.name.casefold() == name:
            return child
    return parent / name


def read_drct2m(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """DRCT-2M (task args ``split``, ``generators``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, DRCT_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    root = require_data_root(spec, data_root, "the folder holding MSCOCO/ and DRCT-2M/")
    split = choice_arg(spec, "split", args.get("split", "val2017"), ("val2017", "train2017"))
    reals = require_dir(
        _folder(root, _one(labels, "real", spec.name)), task=spec.name, what="the MSCOCO reals"
    )
    fakes = require_dir(
        _folder(root, _one(labels, "fake", spec.name)), task=spec.name, what="DRCT-2M/<generator>"
    )
    wanted = choose(spec, "generators", args.get("generators"), tuple(DRCT_GENERATORS))
    check_subfolders(
        fakes, DRCT_GENERATORS, wanted, task=spec.name, what="DRCT-2M's 16 generators", narrow="generators"
    )
    real_dir = require_dir(reals / split, task=spec.name, what=f"MSCOCO {split} images")
    samples = [
        image_sample(root, real_dir.joinpath(*p), "real", prompt, category="real")
        for p in list_images(real_dir)
    ]
    for generator in wanted:
        folder = require_dir(fakes / generator / split, task=spec.name, what=f"{generator}'s {split} images")
        family = {"family": DRCT_GENERATORS[generator]}
        samples += [
            image_sample(root, folder.joinpath(*p), "fake", prompt, category=generator, metadata=family)
            for p in list_images(folder)
        ]
    notes = {"label_map": labels.declared, "split": split, "counts": counts_by(samples)}
    return TaskData(samples, files=[listing("drct2m", root, samples, args.get("cache_dir"))], notes=notes)


def _read_csv(path: Path) -> list[dict[str, str]]:
    """GRIP's ``filename,typ`` list named by the ``csv`` argument."""
    return read_csv_rows(
        path, ("filename", "typ"), not_found=f"CSV list not found: {path} (task argument csv)"
    )


def _csv_samples(
    spec: TaskSpec, labels: LabelMap, rows: list[dict[str, str]], base: Path, root: Path, source: Path
) -> list[Sample]:
    """Samples of GRIP's ``filename,typ`` rows: ``typ=real`` is real (``compute_metrics.py``), and the image's
    folder must be declared with the same label."""
    prompt = require_prompt(spec)
    samples = []
    for index, row in enumerate(rows):
        where = f"row {index + 2}"
        path = safe_join(base, row["filename"], source=source, where=where)
        typ = (row.get("typ") or "").strip()
        folder = PurePosixPath(row["filename"].replace("\\", "/")).parent.name
        by_folder = labels.label(folder, source=source, where=f"{where} (folder {folder!r})")
        if by_folder is None:
            continue
        label = agree(
            spec.name, "real" if typ == "real" else "fake", by_folder, source=source, where=where,
            first_from=f"typ {typ!r}", second_from=f"the declared folder {folder!r}",
        )  # fmt: skip
        samples.append(image_sample(root, path, label, prompt, category="real" if label == "real" else typ))
    return samples


def read_synthbuster(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Synthbuster with GRIP's RAISE-1k reals (task args ``csv``, ``labels``, ``add_labels``, ``cache_dir``)."""
    check_args(spec, args, SYNTHBUSTER_ARGS)
    labels = label_map(spec, args)
    prompt = require_prompt(spec)
    given = require_data_root(spec, data_root, "the folder holding synthbuster/ (or synthbuster/ itself)")
    folder = given / "synthbuster" if (given / "synthbuster").is_dir() else given
    root = folder.parent
    if args.get("csv"):
        source = arg_path(given, args["csv"])
        samples = _csv_samples(spec, labels, _read_csv(source), root, root, source)
        files = [source, listing("synthbuster", root, samples, args.get("cache_dir"))]
    else:
        found = visible_dirs(require_dir(folder, task=spec.name, what="Synthbuster's generator folders"))
        labels.check_names(found, folder=folder)
        on_disk = {name.casefold(): name for name in found}
        samples = []
        for name, meaning in labels.entries:
            if meaning == "drop":
                continue
            if name not in on_disk:
                raise SpotfakeError(
                    f"task {spec.name}: folder not found: {folder / name} (declared in labels: {labels.declared})"
                )
            sub = folder / on_disk[name]
            category = "real" if meaning == "real" else on_disk[name]
            samples += [
                image_sample(root, sub.joinpath(*p), meaning, prompt, category=category)
                for p in list_images(sub)
            ]
        files = [listing("synthbuster", root, samples, args.get("cache_dir"))]
    counts = counts_by(samples)
    published = {k: {"fake": SYNTHBUSTER_PUBLISHED} for k in counts if k != "real"}
    published["real"] = {"real": SYNTHBUSTER_PUBLISHED}
    notes = {
        "label_map": labels.declared,
        "counts": counts,
        "count_differences": count_differences(counts, published),
    }
    return TaskData(samples, files=files, notes=notes)


def read_synthwildx(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """SynthWildX as downloaded from ``list.csv`` (task args ``csv``, ``missing``, ``labels``, ``cache_dir``)."""
    check_args(spec, args, SYNTHWILDX_ARGS)
    labels = label_map(spec, args)
    root = require_data_root(spec, data_root, "the synthwildx folder holding list.csv and <typ>/ folders")
    source = arg_path(root, args.get("csv", "list.csv"))
    samples = _csv_samples(spec, labels, _read_csv(source), root, root, source)
    missing = choice_arg(spec, "missing", args.get("missing", "skip"), ("skip", "keep"))
    absent = [s for s in samples if not s.images[0].exists()]
    if missing == "skip":
        samples = [s for s in samples if s.images[0].exists()]
    if not samples:
        raise SpotfakeError(f"task {spec.name}: none of the {len(absent)} images of {source} is below {root}")
    counts = counts_by(samples)
    published = {k: {("real" if k == "real" else "fake"): SYNTHWILDX_PUBLISHED} for k in counts}
    notes = {
        "label_map": labels.declared,
        "counts": counts,
        "images_not_downloaded": len(absent),
        "count_differences": count_differences(counts, published),
    }
    return TaskData(
        samples, files=[source, listing("synthwildx", root, samples, args.get("cache_dir"))], notes=notes
    )
