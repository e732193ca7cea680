"""A toy task with train/val/test splits for the engine's tests: ``<root>/<split>.csv`` rows ``id,label,score``
(the score is what the test's model answers), so each split is its own data with its own fingerprint."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample

SPLITS = ("train", "val", "test", "holdout")


def read_toy_splits(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """Task args ``split`` (train, val, test or holdout) and ``file`` (the CSV it reads, default the split's:
    ``file=test`` makes ``holdout`` another name for the test data)."""
    split = str(args.get("split", "test"))
    if split not in SPLITS:
        raise SpotfakeError(f"task {spec.name}: split must be one of {', '.join(SPLITS)}, got {split!r}")
    if data_root is None:
        raise SpotfakeError(f"task {spec.name} needs --data-root (a folder of <split>.csv files)")
    path = data_root / f"{args.get('file') or split}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    samples = [
        Sample(
            id=row["id"],
            label=row["label"],  # type: ignore[arg-type]
            prompt="Is this image real or fake?",
            category=row.get("category") or None,
            metadata={"score": row["score"]},
        )
        for row in rows
    ]
    return TaskData(samples=samples, files=[path])
