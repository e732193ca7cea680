"""SID-Set (Huang et al., SIDA, CVPR 2025) in its published folder layout, with the tampered images' masks.

Layout (``hzlsaber/SIDA`` README and ``utils/SID_Set.py``): ``SID_Set/<split>/{real,full_synthetic,
tampered,masks}``; ``--data-root`` is the ``SID_Set`` folder (``split`` picks ``train``, ``validation`` or
``test``; the test split is the ``test.zip`` the README links) or one split folder itself. The images are
the ones SIDA's loader reads, and only those: ``real/*.jpg``, ``full_synthetic/*.png``,
``tampered/*.png``, with the mask of ``tampered/<name>.png`` at ``masks/<name>_mask.png``. Like SIDA's
loader, a tampered image without its mask is left out; the notes count those and any image file of
another suffix (which SIDA's glob does not read either), so the sample set is SIDA's.

Labels: real -> real, full_synthetic -> fake, tampered -> fake (``tampered=drop`` leaves them out).
Category and metadata ``kind`` = the class (SIDA's three classes, :mod:`harness.metrics.localisation_sida`);
tampered images carry metadata ``mask``, the truth of the localisation metrics. Masks are 0/255 images
read at the 0.5 threshold (:mod:`harness.regions.masks`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.regions.overlap import TruthRoots
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import check_args, choice_arg, require_data_root
from spotfake.tasks.readers.imagefolder import EXTENSIONS, file_size, write_listing
from spotfake.tasks.readers.published import counts_by, require_prompt
from spotfake.tasks.readers.regions import mask_metadata

CLASSES: dict[str, str] = {"real": ".jpg", "full_synthetic": ".png", "tampered": ".png"}
"""Class folder -> the one suffix SIDA's loader globs in it."""
MASKS = "masks"
SPLITS = ("train", "validation", "test")
ARGS = ("split", "tampered", "cache_dir")
LAYOUT = "the SID_Set folder holding <split>/{real,full_synthetic,tampered,masks} (or one split folder)"


def split_folder(spec: TaskSpec, root: Path, split: str) -> Path:
    """``root/split`` when it exists, else ``root`` itself when it holds the class folders."""
    if (root / split).is_dir():
        return root / split
    if all((root / name).is_dir() for name in CLASSES):
        return root
    raise SpotfakeError(
        f"task {spec.name}: no {split}/ folder (nor real/, full_synthetic/, tampered/) in {root}"
    )


def _files(folder: Path, suffix: str) -> tuple[list[Path], int]:
    """The files of ``folder`` with ``suffix`` (case as SIDA's glob: exact), sorted, and how many other
    image files it holds."""
    chosen, other = [], 0
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix == suffix:
            chosen.append(path)
        elif path.name.lower().endswith(EXTENSIONS):
            other += 1
    return chosen, other


def read_sidset(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """SID-Set (task args ``split``, ``tampered``, ``cache_dir``)."""
    check_args(spec, args, ARGS)
    prompt = require_prompt(spec)
    split = choice_arg(spec, "split", args.get("split", "test"), SPLITS)
    tampered = choice_arg(spec, "tampered", args.get("tampered", "fake"), ("fake", "drop"))
    root = require_data_root(spec, data_root, LAYOUT)
    base = split_folder(spec, root, split)
    roots = TruthRoots.of(root, args.get("cache_dir"))
    wanted = [c for c in CLASSES if not (c == "tampered" and tampered == "drop")]
    samples: list[Sample] = []
    ignored: dict[str, int] = {}
    without_mask: list[str] = []
    listing: list[str] = []
    for name in wanted:
        folder = base / name
        if not folder.is_dir():
            raise SpotfakeError(f"task {spec.name}: folder not found: {folder} (expected {LAYOUT})")
        files, ignored[name] = _files(folder, CLASSES[name])
        for path in files:
            sid = f"{name}/{path.name}"
            metadata = {"kind": name}
            if name == "tampered":
                mask = base / MASKS / f"{path.stem}_mask.png"
                if not mask.is_file():
                    without_mask.append(path.name)
                    continue
                metadata.update(mask_metadata(mask, None, roots=roots, what=f"task {spec.name}"))
                listing.append(f"{MASKS}/{mask.name}\tmask\t{file_size(mask)}\n")
            label: Label = "real" if name == "real" else "fake"
            samples.append(Sample(sid, label, prompt, (path,), category=name, metadata=metadata))
            listing.append(f"{sid}\t{label}\t{file_size(path)}\n")
    if not samples:
        raise SpotfakeError(f"task {spec.name}: no images in {base} (expected {LAYOUT})")
    notes = {
        "split": split,
        "folder": str(base),
        "tampered": tampered,
        "counts": counts_by(samples),
        "tampered_without_mask": len(without_mask),
        "ignored_other_suffix": {k: v for k, v in ignored.items() if v},
    }
    files_ = [write_listing("sidset", base, "".join(listing), args.get("cache_dir"))]
    return TaskData(samples, files=files_, notes=notes)
