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

Ownership (:mod:`.owners`): the first accepted submission of a model name gets an owner token, shown once;
every later submission under that name needs it. Metadata (:mod:`.metadata`: description, paper, code,
contact, licence, parameter count) is stored in ``provenance.metadata``. A task whose labels are held out on the board's
host (:mod:`.heldout`) is scored against them and stores no per-sample records.

Its provenance also records its verification tier (``recomputed``: self-reported predictions, re-scored)
and the suspicion flags that apply (:mod:`.suspicion`: scores copied from the labels, a perfect 0/1
separation, a metric above every reproduced run by more than its CI); the board ranks flagged rows apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE
from spotfake.harness.results_contract import Results
from spotfake.harness.types import Record
from spotfake.leaderboard.received import Limits, SubmissionFiles, too_big
from spotfake.leaderboard.submission.heldout import HeldOutLabels
from spotfake.leaderboard.submission.metadata import DECLARED, clean_metadata
from spotfake.leaderboard.submission.parse import MODEL_KINDS, parse_results, parse_samples
from spotfake.leaderboard.submission.store import has_stored, store, stored_results, submission_folder
from spotfake.leaderboard.submission.verify import CSS_TOLERANCE, TOLERANCE, load_task_for, verify

if TYPE_CHECKING:
    from spotfake.leaderboard.submission.owners import OwnerStore

Progress = Callable[[str], object]
"""Told each step of a check as it starts (the Submit tab's status box)."""

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
    held_out: bool = False
    """Scored against labels held out on this host: ``records`` are never stored."""
    owner_token: str | None = None
    """The owner token issued when this submission claimed its model name (shown once), else None."""

    @property
    def model(self) -> str:
        """The submitted model name."""
        return self.results["model"]["name"]

    @property
    def task(self) -> str:
        """The task name."""
        return self.results["task"]["name"]


def _silent(_step: str) -> None:
    return None


def claimed_results(files: SubmissionFiles, limits: Limits = Limits()) -> Results:
    """The submitted ``results.json``, checked for size, strict JSON and the schema (the cheap checks)."""
    for name, data, limit in (
        (RESULTS_FILE, files.results, limits.results_bytes),
        (SAMPLES_FILE, files.samples, limits.samples_bytes),
    ):
        if len(data) > limit:
            raise too_big(name, len(data), limit)
    return parse_results(files.results)


def check_submission(
    files: SubmissionFiles,
    *,
    data_root: Path | None = None,
    limits: Limits = Limits(),
    held_out: HeldOutLabels | None = None,
    progress: Progress = _silent,
    css_clip_model: Path | None = None,
) -> CheckedSubmission:
    """Run every check; return what to store, or raise SpotfakeError with the first reason to refuse.
    ``held_out``: the task's private labels on this host (scored against them, claims not compared).
    ``css_clip_model``: the board's CLIP folder, for tasks scored with ``css_clip77``."""
    progress("Reading both files (sizes, strict JSON, the results schema, every record)")
    claimed = claimed_results(files, limits)
    submitted = parse_samples(files.samples, limits)
    progress(
        f"Loading this server's copy of task {claimed['task']['name']!r} (version, annotations, arguments)"
    )
    task = load_task_for(claimed, data_root)
    if held_out is not None:
        task = held_out.apply(task)
    progress(f"Re-scoring the {len(submitted):,} answers and comparing every claimed number")
    records, summary, scoring = verify(
        claimed, submitted, task, held_out=held_out is not None, css_clip_model=css_clip_model
    )
    tolerance = {"default": TOLERANCE, "css": CSS_TOLERANCE}
    results = stored_results(claimed, task, summary, scoring, files, tolerance, held_out=held_out is not None)
    return CheckedSubmission(results=results, records=records, files=files, held_out=held_out is not None)


def store_submission(checked: CheckedSubmission, results_dir: Path, *, replace: bool = False) -> Path:
    """Store a checked submission (atomically, under its lock); returns the stored folder. A held-out
    task's records (labels, right or wrong) are not stored, only the files as received."""
    records = None if checked.held_out else checked.records
    return store(checked.results, records, checked.files, results_dir, replace=replace)


def submit(
    files: SubmissionFiles,
    results_dir: Path,
    *,
    data_root: Path | None = None,
    limits: Limits = Limits(),
    replace: bool = False,
    owners: OwnerStore | None = None,
    token: str | None = None,
    metadata: Mapping[str, object] | None = None,
    held_out: HeldOutLabels | None = None,
    progress: Progress = _silent,
    css_clip_model: Path | None = None,
) -> tuple[Path, CheckedSubmission]:
    """Check a submission and store it; returns the stored folder and what was stored (with the owner
    token when this submission claimed its model name). The CLI and the app both call this.

    ``owners``: the board's owner table; then a model name owned by someone else needs ``token``
    (:class:`.owners.OwnerError`), checked before the expensive checks and claimed just before storing.
    ``metadata``: description, paper, code, contact, licence, parameters (:func:`.metadata.clean_metadata`);
    a declared count replaces the one the submitted results.json gives, both shown as declared.
    ``css_clip_model``: the board's CLIP folder; without it a ``css_clip77`` submission is refused
    (:class:`.verify.NeedsClip`).
    """
    about = clean_metadata(metadata or {})
    name = claimed_results(files, limits)["model"]["name"]
    new_name = False
    if owners is not None:
        progress(f"Checking who owns the model name {name!r}")
        new_name = owners.check(name, token, stored=has_stored(results_dir, name))
    checked = check_submission(
        files,
        data_root=data_root,
        limits=limits,
        held_out=held_out,
        progress=progress,
        css_clip_model=css_clip_model,
    )
    flag_submission(checked, results_dir)
    if about:
        checked.results["provenance"]["metadata"] = about
    if "parameters" in about:
        checked.results["model"]["parameters"] = int(about["parameters"])
        checked.results["model"]["parameters_note"] = DECLARED
    issued = owners.claim(name) if owners is not None and new_name else None
    progress("Storing the accepted submission")
    try:
        folder = store_submission(checked, results_dir, replace=replace)
    except BaseException:
        if owners is not None and issued is not None:
            owners.release(name, issued)
        raise
    return folder, dataclasses.replace(checked, owner_token=issued)


def reproduced_runs(results_dir: Path, task: str) -> list[Results]:
    """The reproduced runs of ``task`` under ``results_dir`` (unreadable files are skipped, as on the board)."""
    from spotfake.leaderboard.scan import read_cached, results_files

    found = []
    for path in sorted(results_files(results_dir)):
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
