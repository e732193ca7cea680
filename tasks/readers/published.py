"""Helpers for test sets kept in their owners' published folder layout: the folders a layout allows, subsets
chosen by a task argument, labelled image folders, and the listing that fingerprints them.

A layout names the folders it expects; a folder it does not know is an error naming the folder and the
expected names, and so is an expected folder that is missing (with the argument that narrows the set).
Nothing is opened: images are only listed, like :mod:`tasks.readers.imagefolder`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskSpec
from spotfake.harness.types import Label, Sample
from spotfake.tasks.readers.imagefolder import file_size, list_images, write_listing
from spotfake.tasks.readers.labelmap import LabelMap


def visible_dirs(folder: Path) -> list[str]:
    """The sub-folders of ``folder`` (symlinks to folders included), hidden ones skipped, sorted."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.is_dir())


def require_dir(path: Path, *, task: str, what: str, hint: str = "") -> Path:
    """``path`` if it is a folder, else one line naming it and what it should hold."""
    if not path.is_dir():
        raise SpotfakeError(f"task {task}: folder not found: {path} (expected {what}){hint}")
    return path


def choose(spec: TaskSpec, key: str, value: Any, known: Sequence[str]) -> list[str]:
    """A ``+``-joined subset of ``known`` from a task argument (``all`` for every one), in ``known``'s order."""
    text = str(value if value is not None else "all").strip()
    if text == "all":
        return list(known)
    wanted = [part.strip() for part in text.split("+") if part.strip()]
    unknown = [w for w in wanted if w not in known]
    if unknown or not wanted:
        raise SpotfakeError(
            f"task {spec.name}: {key}={text!r} names {', '.join(unknown) or 'nothing'}; "
            f"known: {', '.join(known)} (join several with '+', or 'all')"
        )
    return [k for k in known if k in wanted]


def check_subfolders(
    parent: Path, allowed: Collection[str], required: Iterable[str], *, task: str, what: str, narrow: str
) -> list[str]:
    """The sub-folders of ``parent``: one not in ``allowed`` is one line, and so is a ``required`` one that
    is missing (``narrow`` names the argument that chooses fewer)."""
    found = visible_dirs(parent)
    for name in found:
        if name not in allowed:
            raise SpotfakeError(
                f"task {task}: unexpected folder {parent / name} (expected {what}: {', '.join(sorted(allowed))})"
            )
    for name in required:
        if name not in found:
            raise SpotfakeError(
                f"task {task}: folder not found: {parent / name} (expected {what}); "
                f"to run without it, choose the others with --task-args {narrow}=..."
            )
    return found


def labelled_images(
    folder: Path, labels: LabelMap, *, need: Collection[Label] = ("real", "fake")
) -> list[tuple[Label, Path]]:
    """``(label, path)`` for every image below ``folder``'s label folders (``0_real``, ``1_fake``, ...), sorted.

    Every sub-folder must be declared in ``labels`` (one line otherwise); a label in ``need`` without any
    folder is one line naming the folder; images below a ``drop`` folder are left out."""
    names = visible_dirs(folder) if folder.is_dir() else []
    labels.check_names(names, folder=folder)
    found: list[tuple[Label, Path]] = []
    present: set[Label] = set()
    for name in names:
        label = labels.label(name, source=folder, where=f"folder {name!r}")
        if label is None:
            continue
        present.add(label)
        found += [(label, folder / name / Path(*parts)) for parts in list_images(folder / name)]
    missing = [label for label in need if label not in present]
    if missing:
        wanted = " and ".join("/".join(labels.values(label)) for label in missing)
        raise SpotfakeError(
            f"task {labels.task}: no {wanted} folder in {folder} (declared: {labels.declared})"
        )
    return found


def image_sample(
    root: Path,
    path: Path,
    label: Label,
    prompt: str,
    *,
    category: str | None,
    metadata: Mapping[str, str] | None = None,
) -> Sample:
    """A sample for one listed image; its id is the path below the data root."""
    return Sample(
        id=path.relative_to(root).as_posix(),
        label=label,
        prompt=prompt,
        images=(path,),
        category=category,
        metadata=dict(metadata or {}),
    )


def listing(kind: str, root: Path, samples: Sequence[Sample], cache_dir: Any) -> Path:
    """The fingerprinted listing (id, label, size per image) of a folder task's samples."""
    lines = "".join(f"{s.id}\t{s.label}\t{file_size(s.images[0])}\n" for s in samples)
    return write_listing(kind, root, lines, cache_dir)


def require_prompt(spec: TaskSpec) -> str:
    """The task's prompt (folder tasks ask every image the same question)."""
    if not spec.prompt:
        raise SpotfakeError(
            f"{spec.source}: task {spec.name} needs a 'prompt' (the real/fake question to ask)"
        )
    return spec.prompt.strip()


def counts_by(samples: Iterable[Sample], field: str = "category") -> dict[str, dict[str, int]]:
    """``{value: {"real": n, "fake": n}}`` per category (or metadata ``field``), for the notes."""
    out: dict[str, dict[str, int]] = {}
    for s in samples:
        value = s.category if field == "category" else s.metadata.get(field)
        slot = out.setdefault(str(value), {"real": 0, "fake": 0})
        if s.label in slot:
            slot[s.label] += 1
    return dict(sorted(out.items()))


def count_differences(
    counts: Mapping[str, Mapping[str, int]], published: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """One phrase per published count that the data does not match (``"dalle2: 998 fake, published 1000"``);
    subsets not in the data are not compared (they were not chosen)."""
    out = []
    for name, expected in published.items():
        if name not in counts:
            continue
        for label, n in expected.items():
            if counts[name].get(label, 0) != n:
                out.append(f"{name}: {counts[name].get(label, 0)} {label}, published {n}")
    return out
