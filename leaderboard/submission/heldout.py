"""Held-out labels: a task whose test labels live only on the board's host, in a private labels file
outside the results folder. Submissions for it are scored there against those labels; the board shows
only aggregate metrics, and no per-sample record with a label or a correct/wrong mark is stored.

The file is CSV with a header ``id,label``: one row per sample of the task, ``label`` is ``real`` or
``fake``. Participants run on the task's public copy (images, prompts, no labels or placeholder ones), so
their claimed metrics cannot be right and are not compared: the board scores their answers itself.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Label

LABELS: tuple[Label, ...] = ("real", "fake")
MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class HeldOutLabels:
    """The private labels of one task (``id -> label``), read from ``path``."""

    path: Path
    labels: dict[str, Label]

    def apply(self, task: LoadedTask) -> LoadedTask:
        """``task`` with every sample's label taken from this file; one line when the file's ids are not
        exactly the task's (the file names neither the missing nor the extra ids' labels)."""
        ids = [s.id for s in task.samples]
        missing = [i for i in ids if i not in self.labels]
        extra = set(self.labels) - set(ids)
        if missing or extra:
            raise SpotfakeError(
                f"held-out labels {self.path}: {len(missing)} of the {len(ids)} samples of task "
                f"{task.name!r} have no label and {len(extra)} labelled ids are not in it; give one row per "
                "sample of the task"
            )
        samples = [dataclasses.replace(s, label=self.labels[s.id]) for s in task.samples]
        return dataclasses.replace(task, samples=samples)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (links resolved)."""
    resolved, root = path.resolve(), folder.resolve()
    return resolved == root or root in resolved.parents


def read_held_out(path: Path, results_dir: Path | None = None) -> HeldOutLabels:
    """Read a private labels file; refused in one line (file and line named) when it lies inside
    ``results_dir`` (which may be published), cannot be read, or has a bad row."""
    if results_dir is not None and inside(path, results_dir):
        raise SpotfakeError(
            f"held-out labels {path}: the file is inside the results folder {results_dir}, which may be "
            "published; keep it outside (docs/hosting.md)"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpotfakeError(f"held-out labels {path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise SpotfakeError(f"held-out labels {path}: over {MAX_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpotfakeError(f"held-out labels {path}: not UTF-8 text; write it as CSV (id,label)") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or [h.strip() for h in header] != ["id", "label"]:
        raise SpotfakeError(f"held-out labels {path} line 1: the header must be 'id,label'")
    labels: dict[str, Label] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0]:
            raise SpotfakeError(f"held-out labels {path} line {number}: expected two cells, id and label")
        sid, label = row[0], row[1].strip().lower()
        if label not in LABELS:
            raise SpotfakeError(f"held-out labels {path} line {number}: the label must be real or fake")
        if sid in labels:
            raise SpotfakeError(f"held-out labels {path} line {number}: a second row for one sample id")
        labels[sid] = "real" if label == "real" else "fake"
    if not labels:
        raise SpotfakeError(f"held-out labels {path}: no rows after the header")
    return HeldOutLabels(path, labels)
