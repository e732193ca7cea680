"""Submission checks: a run folder (``results.json`` + ``samples.jsonl``) is accepted only when the
leaderboard, scoring the submitted responses against its *own* task data, gets the numbers it claims.

The checks, in order (the first failure refuses the submission with one line naming what and where):

1. sizes within :class:`~leaderboard.received.Limits` (before anything is parsed; zip members by their real
   size);
2. strict JSON (:mod:`harness.jsonio`: UTF-8, no duplicate keys, only finite numbers, bounded nesting and
   integers), the engine's results schema, a known ``model.kind`` and a plain model name
   (:mod:`.parse`); each record through the engine's converter :mod:`harness.record_json`;
3. a registered task (never a file path) whose version, annotation fingerprint and arguments are the ones
   the leaderboard holds (``--data-root`` points at the data when the task needs it);
4. one record per task sample: no missing, extra or duplicate ids, and no label that contradicts the task
   (labels always come from the task, never from the submission);
5. re-scoring through the engine's own code (:mod:`harness.scoring`), then every claimed metric, per-category
   and breakdown value, and every per-sample verdict / correct / ROUGE-L / CSS is compared with the
   recomputed one (:mod:`.verify`).

An accepted submission is stored atomically under a per-(model, task) file lock in
``<results-dir>/submitted/<model>/<task>/`` with the recomputed ``results.json`` (``"source": "submitted"``
and a ``provenance`` block: sha256 of the files as received, time, spotfake version) and records, beside
the received files kept verbatim for audit (:mod:`.store`). Nothing submitted is unpickled, executed or
rendered as HTML.

Its provenance also records its verification tier (``recomputed``: self-reported predictions, re-scored)
and the suspicion flags that apply (:mod:`.suspicion`: scores copied from the labels, a perfect 0/1
separation, a metric above every reproduced run by more than its CI); the board ranks flagged rows apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE
from spotfake.harness.results_contract import Results
from spotfake.harness.types import Record
from spotfake.leaderboard.received import Limits, SubmissionFiles, too_big
from spotfake.leaderboard.submission.parse import MODEL_KINDS, parse_results, parse_samples
from spotfake.leaderboard.submission.store import store, stored_results, submission_folder
from spotfake.leaderboard.submission.verify import CSS_TOLERANCE, TOLERANCE, load_task_for, verify

__all__ = [
    "MODEL_KINDS",
    "CheckedSubmission",
    "check_submission",
    "parse_results",
    "store_submission",
    "submission_folder",
    "submit",
]


@dataclass(frozen=True)
class CheckedSubmission:
    """A submission that passed every check: what will be stored."""

    results: Results
    records: list[Record]
    files: SubmissionFiles

    @property
    def model(self) -> str:
        """The submitted model name."""
        return self.results["model"]["name"]

    @property
    def task(self) -> str:
        """The task name."""
        return self.results["task"]["name"]


def check_submission(
    files: SubmissionFiles, *, data_root: Path | None = None, limits: Limits = Limits()
) -> CheckedSubmission:
    """Run every check; return what to store, or raise SpotfakeError with the first reason to refuse."""
    for name, data, limit in (
        (RESULTS_FILE, files.results, limits.results_bytes),
        (SAMPLES_FILE, files.samples, limits.samples_bytes),
    ):
        if len(data) > limit:
            raise too_big(name, len(data), limit)
    claimed = parse_results(files.results)
    submitted = parse_samples(files.samples, limits)
    task = load_task_for(claimed, data_root)
    records, summary, scoring = verify(claimed, submitted, task)
    tolerance = {"default": TOLERANCE, "css": CSS_TOLERANCE}
    results = stored_results(claimed, task, summary, scoring, files, tolerance)
    return CheckedSubmission(results=results, records=records, files=files)


def store_submission(checked: CheckedSubmission, results_dir: Path, *, replace: bool = False) -> Path:
    """Store a checked submission (atomically, under its lock); returns the stored folder."""
    return store(checked.results, checked.records, checked.files, results_dir, replace=replace)


def submit(
    files: SubmissionFiles,
    results_dir: Path,
    *,
    data_root: Path | None = None,
    limits: Limits = Limits(),
    replace: bool = False,
) -> tuple[Path, CheckedSubmission]:
    """Check a submission and store it; returns the stored folder. The CLI and the app both call this."""
    checked = check_submission(files, data_root=data_root, limits=limits)
    flag_submission(checked, results_dir)
    folder = store_submission(checked, results_dir, replace=replace)
    return folder, checked


def reproduced_runs(results_dir: Path, task: str) -> list[Results]:
    """The reproduced runs of ``task`` under ``results_dir`` (unreadable files are skipped, as on the board)."""
    from spotfake.leaderboard.scan import read_cached

    found = []
    for path in sorted(results_dir.rglob(RESULTS_FILE)):
        results = read_cached(path)
        if (
            not isinstance(results, str)
            and results["source"] == "reproduced"
            and results["task"]["name"] == task
        ):
            found.append(results)
    return found


def flag_submission(checked: CheckedSubmission, results_dir: Path) -> None:
    """Record the submission's tier (recomputed: self-reported predictions, re-scored) and its suspicion
    flags (:mod:`spotfake.leaderboard.submission.suspicion`) in its provenance; flagged rows rank apart."""
    from spotfake.leaderboard.submission.suspicion import suspicion_flags

    reproduced = reproduced_runs(results_dir, checked.task)
    provenance = checked.results.setdefault("provenance", {})
    provenance["tier"] = "recomputed"
    provenance["flags"] = suspicion_flags(checked.results, checked.records, reproduced)
