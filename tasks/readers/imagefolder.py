"""Real/fake image folders, recognised by their folder names at any depth below the data root.

Three layouts are common among published detection test sets:

- ``0_real`` / ``1_fake``: ForenSynths (CNNSpot, Wang et al. 2020), UniversalFakeDetect (Ojha et al. 2023),
  AIGCDetectBenchmark, Chameleon (AIDE, Yan et al. 2024);
- ``nature`` / ``ai``: GenImage (Zhu et al. 2023);
- ``real`` / ``fake``: FakeClue's image tree and many smaller sets.

Each task declares its label map through :mod:`tasks.readers.labelmap`: the ``layout`` argument names one
(``0_real/1_fake`` declares ``0_real:real|1_fake:fake``, and the other layouts' folder names as ``drop``, so a
preset reads its own convention only; ``auto`` declares all three), ``labels`` replaces it and
``add_labels`` extends it. An image's label comes from the nearest enclosing folder that the map holds
(case-insensitive; a ``drop`` folder leaves its images out). A folder beside a label folder that the map does
not hold (``2_fake`` next to ``0_real`` and ``1_fake``) refuses the task in one line rather than be guessed.
Its category is the first folder below the scanned root (the generator in ForenSynths and GenImage), or the
folder just above the real/fake folder with ``category=parent``. Ids are paths relative to the data root,
in sorted order. Nothing is opened: images are only listed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_bytes
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.common import (
    arg_path,
    cache_root,
    check_args,
    choice_arg,
    require_data_root,
)
from spotfake.tasks.readers.labelmap import LABEL_ARGS, LabelMap, Meaning, label_map

LAYOUTS: dict[str, dict[str, Label]] = {
    "0_real/1_fake": {"0_real": "real", "1_fake": "fake"},
    "nature/ai": {"nature": "real", "ai": "fake"},
    "real/fake": {"real": "real", "fake": "fake"},
}
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CATEGORY_MODES = ("top", "parent", "none")
ARGS = ("layout", "subdir", "category", "cache_dir", *LABEL_ARGS)


def layout_declaration(layout: str, spec: TaskSpec) -> str:
    """The label map a layout declares, as ``raw:meaning|...`` text: its own folders, and the other layouts'
    folders as ``drop`` (a preset reads its own convention only); every layout's folders with ``auto``."""
    if layout != "auto" and layout not in LAYOUTS:
        raise SpotfakeError(
            f"task {spec.name}: unknown layout {layout!r} (known: auto, {', '.join(LAYOUTS)})"
        )
    entries = {
        name: label if layout in ("auto", key) else "drop"
        for key, names in LAYOUTS.items()
        for name, label in names.items()
    }
    return "|".join(f"{name}:{meaning}" for name, meaning in entries.items())


def folder_label_map(spec: TaskSpec, layout: str, args: Mapping[str, Any]) -> LabelMap:
    """The task's declared map: ``labels`` when given, else the layout's (:func:`layout_declaration`), either
    extended by ``add_labels`` (:func:`tasks.readers.labelmap.label_map`)."""
    declared = layout_declaration(layout, spec)  # an unknown layout is refused even where labels replace it
    return label_map(spec, {**args, "labels": args.get("labels") or declared})


def list_images(
    root: Path, folders: Callable[[Path, list[str]], None] | None = None
) -> list[tuple[str, ...]]:
    """Relative path parts of every image file below ``root``, sorted; hidden entries are skipped and
    symlinked folders are followed once (a link cycle cannot loop). ``folders(folder, names)`` is called
    with each folder visited and the names of its visible sub-folders (sorted; links back to a folder
    already visited left out)."""
    found: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if folders is not None:  # a link back to a folder already walked holds nothing new: not listed
            folders(Path(folder), [d for d in dirs if os.path.realpath(os.path.join(folder, d)) not in seen])
        rel = Path(folder).relative_to(root).parts
        for name in files:
            if not name.startswith(".") and name.lower().endswith(EXTENSIONS):
                found.append((*rel, name))
    return sorted(found)


def classify(
    parts: tuple[str, ...], names: Mapping[str, Meaning], mode: str
) -> tuple[Label, str, str | None] | None:
    """``(label, group, category)`` for one image path, or None when no folder on it names a label or the
    nearest one that does is declared ``drop``. ``names``: case-folded folder name -> meaning.

    ``group`` is the path above the real/fake folder; ``category`` follows ``mode`` (see module doc).
    """
    folders = parts[:-1]
    for depth in range(len(folders) - 1, -1, -1):
        label = names.get(folders[depth].casefold())
        if label is None:
            continue
        if label == "drop":
            return None
        above = folders[:depth]
        category: str | None = None
        if above and mode != "none":
            category = above[0] if mode == "top" else above[-1]
        return label, "/".join(above), category
    return None


def read_imagefolder(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Reader for real/fake folders (task args: ``layout``, ``subdir``, ``category``, ``cache_dir``)."""
    check_args(spec, args, ARGS)
    root = require_data_root(spec, data_root, "a folder with real/fake sub-folders (e.g. 0_real/1_fake)")
    layout = str(args.get("layout", "auto"))
    labels = folder_label_map(spec, layout, args)
    mode = choice_arg(spec, "category", args.get("category", "top"), CATEGORY_MODES)
    scan = arg_path(root, args.get("subdir", "."))
    if not scan.is_dir():
        raise SpotfakeError(f"task {spec.name}: folder not found: {scan} (task argument subdir)")
    if not spec.prompt:
        raise SpotfakeError(
            f"{spec.source}: task {spec.name} needs a 'prompt' (the real/fake question to ask)"
        )
    samples: list[Sample] = []
    skipped = 0
    listing = []
    for parts in list_images(scan, lambda folder, names: _check_beside_labels(labels, folder, names)):
        found = classify(parts, labels.mapping, mode)
        if found is None:
            skipped += 1
            continue
        label, group, category = found
        path = scan.joinpath(*parts)
        sample_id = path.relative_to(root).as_posix()
        samples.append(
            Sample(
                id=sample_id,
                label=label,
                prompt=spec.prompt.strip(),
                images=(path,),
                category=category,
                metadata={"group": group} if group else {},
            )
        )
        listing.append(f"{sample_id}\t{label}\t{file_size(path)}\n")
    if not samples:
        folders = " or ".join("/".join(LAYOUTS[k]) for k in LAYOUTS) if layout == "auto" else layout
        raise SpotfakeError(
            f"task {spec.name}: no images ({', '.join(EXTENSIONS)}) in {folders} folders below {scan}"
            + (f" ({skipped} images elsewhere)" if skipped else "")
        )
    manifest = write_listing("imagefolder", root, "".join(listing), args.get("cache_dir"))
    return TaskData(samples, files=[manifest], notes={"layout": layout, "skipped_images": skipped})


def _check_beside_labels(labels: LabelMap, folder: Path, names: list[str]) -> None:
    """Where a folder holds a label folder, every folder beside it must be declared too (one line if not)."""
    if any(labels.knows(name) for name in names):
        labels.check_names(names, folder=folder)


def file_size(path: Path) -> int:
    """The size of a listed image, -1 for a dangling link (listed; the runner reports it on loading)."""
    try:
        return path.stat().st_size
    except OSError:  # a dangling link: listed, and the runner reports it when it loads the image
        return -1


def write_listing(kind: str, root: Path, text: str, cache_dir: Any) -> Path:
    """Save a listing (id, label, size per image) so the data fingerprint covers the folder's contents;
    ``kind`` names the reader (one cache folder each)."""
    key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    path = cache_root(cache_dir) / kind / key / "listing.tsv"
    try:
        atomic_write_bytes(path, text.encode())
    except OSError as exc:  # e.g. SPOTFAKE_CACHE below a regular file, or a read-only cache
        raise SpotfakeError(
            f"cannot write the image listing to {path.parent} ({exc.strerror or exc}); set SPOTFAKE_CACHE "
            "(or --task-args cache_dir=DIR) to a writable folder"
        ) from None
    return path
