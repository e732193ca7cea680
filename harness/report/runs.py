"""Run folders as inputs of reports: the validated ``results.json`` and the per-sample labels and scores."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, read_records, read_results
from spotfake.harness.results_contract import Results

FloatArray = np.ndarray


@dataclass(frozen=True)
class RunData:
    """One evaluation: its results and, when it has records, labels (1 = fake) and p(fake) scores.

    ``scores`` is NaN where the model gave no score; ``labels`` is -1 where the sample has no real/fake
    label (multiple-choice tasks). ``groups`` holds each record's metadata value per field.
    """

    folder: Path
    results: Results
    ids: tuple[str, ...] = ()
    labels: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    scores: FloatArray = field(default_factory=lambda: np.zeros(0))
    groups: dict[str, tuple[str | None, ...]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        """The model's name."""
        return self.results["model"]["name"]

    @property
    def task(self) -> str:
        """The task's name."""
        return self.results["task"]["name"]

    @property
    def perturbation(self) -> str | None:
        """The canonical perturbation spec, or None for a clean run."""
        p = self.results.get("perturbation")
        return None if p is None else p["spec"]

    @property
    def is_reported(self) -> bool:
        """A row copied from a publication (no samples, never recomputed)."""
        return self.results["source"] == "reported"

    @property
    def name(self) -> str:
        """The run's display name (:meth:`harness.run_identity.RunIdentity.display_name`)."""
        from spotfake.harness.run_identity import RunIdentity

        return RunIdentity.from_results(self.results).display_name()

    def scored(self) -> tuple[FloatArray, FloatArray]:
        """Labels (0 real, 1 fake) and scores of the records that have both."""
        keep = (self.labels >= 0) & ~np.isnan(self.scores)
        return self.labels[keep].astype(np.int64), self.scores[keep]


def find_run_dirs(paths: Iterable[Path]) -> list[Path]:
    """Run folders named by ``paths``: a folder with ``results.json``, or every such folder below one."""
    found: list[Path] = []
    for path in paths:
        try:
            found += _run_dirs_at(path)
        except OSError as exc:  # a name too long, a loop of links, a folder that cannot be listed
            raise SpotfakeError(f"{path}: cannot read this run folder ({exc.strerror or exc})") from None
    return list(dict.fromkeys(p.resolve() for p in found))


def _run_dirs_at(path: Path) -> list[Path]:
    """The run folders one path names (see :func:`find_run_dirs`)."""
    if path.is_file() and path.name == RESULTS_FILE:
        return [path.parent]
    if (path / RESULTS_FILE).is_file():
        return [path]
    if path.is_dir():
        below = sorted(p.parent for p in path.rglob(RESULTS_FILE))
        if not below:
            raise SpotfakeError(f"{path}: no {RESULTS_FILE} in this folder or below it; is it a run folder?")
        return below
    raise SpotfakeError(f"{path}: no such run folder (give folders holding {RESULTS_FILE})")


def load_run(folder: Path, *, with_samples: bool = True) -> RunData:
    """Read one run folder; a folder without ``samples.jsonl`` (reported rows) has results only."""
    results = cast(Results, read_results(folder / RESULTS_FILE))
    samples = folder / SAMPLES_FILE
    if not with_samples or not samples.is_file():
        return RunData(folder=folder, results=results)
    records = read_records(samples)
    labels = np.array([{"fake": 1, "real": 0}.get(r.label or "", -1) for r in records], dtype=np.int8)
    scores = np.array([np.nan if r.score is None else float(r.score) for r in records], dtype=np.float64)
    fields = sorted({k for r in records for k in r.metadata})
    groups = {f: tuple(r.metadata.get(f) for r in records) for f in fields}
    return RunData(
        folder=folder,
        results=results,
        ids=tuple(r.id for r in records),
        labels=labels,
        scores=scores,
        groups=groups,
    )


def load_runs(paths: Iterable[Path], *, with_samples: bool = True) -> list[RunData]:
    """Every run folder named by ``paths`` (see :func:`find_run_dirs`), read."""
    return [load_run(folder, with_samples=with_samples) for folder in find_run_dirs(paths)]
