"""Real/fake image folders, recognised by their folder names at any depth below the data root.

Three layouts are common among published detection test sets:

- ``0_real`` / ``1_fake``: ForenSynths (CNNSpot, Wang et al. 2020), UniversalFakeDetect (Ojha et al. 2023),
  AIGCDetectBenchmark, Chameleon (AIDE, Yan et al. 2024);
- ``nature`` / ``ai``: GenImage (Zhu et al. 2023);
- ``real`` / ``fake``: FakeClue's image tree and many smaller sets.

An image's label comes from the nearest enclosing folder with one of these names (case-insensitive). Its
category is the first folder below the scanned root (the generator in ForenSynths and GenImage), or the
folder just above the real/fake folder with ``category=parent``. Ids are paths relative to the data root,
in sorted order. Nothing is opened: images are only listed.
"""

from __future__ import annotations

import hashlib
import os
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

LAYOUTS: dict[str, dict[str, Label]] = {
    "0_real/1_fake": {"0_real": "real", "1_fake": "fake"},
    "nature/ai": {"nature": "real", "ai": "fake"},
    "real/fake": {"real": "real", "fake": "fake"},
}
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CATEGORY_MODES = ("top", "parent", "none")
ARGS = ("layout", "subdir", "category", "cache_dir")


def label_names(layout: str, spec: TaskSpec) -> dict[str, Label]:
    """Folder name (lower case) -> label for a layout name, or for all layouts with ``auto``."""
    if layout == "auto":
        return {name: label for names in LAYOUTS.values() for name, label in names.items()}
    if layout not in LAYOUTS:
        raise SpotfakeError(
            f"task {spec.name}: unknown layout {layout!r} (known: auto, {', '.join(LAYOUTS)})"
        )
    return dict(LAYOUTS[layout])


def list_images(root: Path) -> list[tuple[str, ...]]:
    """Relative path parts of every image file below ``root``, sorted; hidden entries are skipped and
    symlinked folders are followed once (a link cycle cannot loop)."""
    found: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(folder).relative_to(root).parts
        for name in files:
            if not name.startswith(".") and name.lower().endswith(EXTENSIONS):
                found.append((*rel, name))
    return sorted(found)


def classify(
    parts: tuple[str, ...], names: dict[str, Label], mode: str
) -> tuple[Label, str, str | None] | None:
    """``(label, group, category)`` for one image path, or None when no folder on it names a label.

    ``group`` is the path above the real/fake folder; ``category`` follows ``mode`` (see module doc).
    """
    folders = parts[:-1]
    for depth in range(len(folders) - 1, -1, -1):
        label = names.get(folders[depth].lower())
        if label is None:
            continue
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
    names = label_names(layout, spec)
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
    for parts in list_images(scan):
        found = classify(parts, names, mode)
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
    atomic_write_bytes(path, text.encode())
    return path
