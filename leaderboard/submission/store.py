"""Storing an accepted submission: the engine's own numbers with provenance, written atomically under a
per-(model, task) OS file lock, so two concurrent submissions of one model and task cannot both land."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import cast

from spotfake.harness import __version__
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.summary import Summary
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, ModelInfo, utc_now, validate_results
from spotfake.harness.results_contract import Perturbation as PerturbationEntry
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record
from spotfake.leaderboard.received import SubmissionFiles
from spotfake.leaderboard.submission.metadata import DECLARED

SUBMITTED_DIR = "submitted"
RECEIVED_PREFIX = "received."
LOCKS_DIR = ".locks"
"""Lock files live in ``submitted/.locks/`` (hidden folders are never read as results)."""
LOCK_WAIT_S = 30.0
CHECKS = (
    "sizes",
    "strict JSON and json schema",
    "task version, annotation fingerprint and arguments",
    "ids exactly the task's, labels from the task",
    "metrics, per-category and breakdown values recomputed",
    "per-sample verdict, correct, ROUGE-L and CSS recomputed",
)
HELD_OUT_CHECKS = (
    *CHECKS[:3],
    "ids exactly the task's; labels held out on the board's host",
    "scored against the held-out labels (claimed metrics not compared)",
    "per-sample verdict recomputed",
)
"""The checks of a submission for a task whose labels are held out (:mod:`.heldout`)."""


class AlreadyStored(SpotfakeError):
    """A submission of the model and task is stored and its replacement was not asked for."""

    def __init__(self, model: str, task: str, folder: Path) -> None:
        self.model, self.task, self.folder = model, task, folder
        super().__init__(f"a submission of {model!r} on {task!r} is already stored")


def has_stored(results_dir: Path, model: str) -> bool:
    """Whether a submission of ``model`` (any task, any arguments) is stored under ``results_dir``."""
    folder = results_dir / SUBMITTED_DIR
    if not folder.is_dir():
        return False
    return any(
        (p.name == model or p.name.startswith(model + "@")) and any(p.glob(f"*/{RESULTS_FILE}"))
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".")
    )


def sha256(data: bytes) -> str:
    """Hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def stored_results(
    claimed: Results,
    task: LoadedTask,
    summary: Summary,
    scoring: Mapping[str, object],
    files: SubmissionFiles,
    tolerance: Mapping[str, float],
    *,
    held_out: bool = False,
) -> Results:
    """The results.json to store: the engine's own numbers, ``source = "submitted"``, and provenance
    (``held_out``: scored against labels held out on this host, which the provenance says)."""
    from spotfake.harness.scoring import build_results

    model = claimed["model"]
    info = ModelInfo(
        name=model["name"],
        kind=model["kind"],
        args=dict(model.get("args") or {}),
        settings=dict(model.get("settings") or {}),
        fingerprint=str(model.get("fingerprint") or ""),
        parameters=model.get("parameters"),
        parameters_note=DECLARED if model.get("parameters") is not None else "",
    )
    results = build_results(
        model=info,
        task=task,
        summary=summary,
        scoring=scoring,
        settings=dict(claimed.get("settings") or {}),
        environment=dict(claimed.get("environment") or {}),
        timing=dict(claimed.get("timing") or {}),
        key=None,
        source="submitted",
    )
    results["provenance"] = {
        "received": utc_now(),
        "submitted_as": "/".join(Path(files.origin).parts[-2:]) or files.origin,
        "files": {
            RESULTS_FILE: {"sha256": sha256(files.results), "bytes": len(files.results)},
            SAMPLES_FILE: {"sha256": sha256(files.samples), "bytes": len(files.samples)},
        },
        "submitted_source": claimed["source"],
        "submitted_spotfake_version": claimed["spotfake_version"],
        "submitted_created": claimed["created"],
        "accepted_by": f"spotfake {__version__}",
        "checks": list(HELD_OUT_CHECKS if held_out else CHECKS),
        "tolerance": dict(tolerance),
    }
    if held_out:
        results["provenance"]["held_out_labels"] = True
    perturbation = claimed.get("perturbation")
    if perturbation is not None:  # part of the run's identity: kept, never dropped into a clean row
        results["perturbation"] = _perturbation(perturbation)
    validate_results(results, source="stored submission")
    return cast(Results, results)


def _perturbation(claimed: Mapping[str, object]) -> PerturbationEntry:
    """The canonical entry of a submitted perturbation; one line when this version cannot read it."""
    from spotfake.harness.perturb import parse_perturbation

    spec = str(claimed.get("spec", ""))
    try:
        parsed = parse_perturbation(spec)
    except SpotfakeError as exc:
        raise SpotfakeError(
            f"{RESULTS_FILE}: perturbation {spec[:80]!r} cannot be read here: {exc}"
        ) from None
    if parsed is None:
        raise SpotfakeError(f"{RESULTS_FILE}: perturbation has an empty spec; remove it for a clean run")
    return parsed.describe()


def submission_folder(results_dir: Path, model: str, task: str, identity: RunIdentity | None = None) -> Path:
    """``<results-dir>/submitted/`` and the run's folder: ``<model>[@<args>]/<task>[@<task args>][@<perturbation>]``
    when its ``identity`` is given, else ``<model>/<task>``."""
    return (identity or RunIdentity.named(model, task)).folder(results_dir / SUBMITTED_DIR)


@contextlib.contextmanager
def submission_lock(
    results_dir: Path,
    model: str,
    task: str,
    wait_s: float = LOCK_WAIT_S,
    identity: RunIdentity | None = None,
) -> Iterator[None]:
    """Hold the OS lock of one (model, task) while storing; released on any exit (a killed process too)."""
    import fcntl

    folder = results_dir / SUBMITTED_DIR / LOCKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    identity = identity or RunIdentity.named(model, task)
    name = f"{identity.model_folder}@{identity.task_folder}"
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    raise SpotfakeError(
                        f"a submission of {model!r} on {task!r} is being stored by another process (pid "
                        f"{holder}); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _staged(staging: Path, results: Results, records: list[Record] | None, files: SubmissionFiles) -> None:
    from spotfake.harness.results import write_records

    text = json.dumps(results, indent=2, allow_nan=False) + "\n"
    (staging / RESULTS_FILE).write_text(text, encoding="utf-8")
    if records is not None:
        write_records(staging / SAMPLES_FILE, records)
    (staging / (RECEIVED_PREFIX + RESULTS_FILE)).write_bytes(files.results)
    (staging / (RECEIVED_PREFIX + SAMPLES_FILE)).write_bytes(files.samples)
    for path in staging.iterdir():
        path.chmod(0o644)
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def store(
    results: Results,
    records: list[Record] | None,
    files: SubmissionFiles,
    results_dir: Path,
    *,
    replace: bool = False,
    lock_wait_s: float = LOCK_WAIT_S,
) -> Path:
    """Write an accepted submission atomically (a complete folder appears at once, or nothing does).

    Under the (model, task) lock: a stored submission is replaced only with ``replace`` (else
    :class:`AlreadyStored`); on any failure no staging folder and no empty model folder is left behind.
    ``records`` None (held-out labels): no per-sample records are stored, only the files as received.
    """
    model, task = results["model"]["name"], results["task"]["name"]
    json.dumps(results, allow_nan=False)  # a non-finite number stops here, before anything is created
    identity = RunIdentity.from_results(results)
    final = submission_folder(results_dir, model, task, identity)
    with submission_lock(results_dir, model, task, lock_wait_s, identity):
        if final.exists() and not replace:
            raise AlreadyStored(model, task, final)
        publish_folder(final, lambda staging: _staged(staging, results, records, files))
    return final


def publish_folder(final: Path, fill: Callable[[Path], None]) -> None:
    """Make ``final`` appear complete at once: ``fill`` writes a staging folder beside it, which then
    replaces ``final`` (if any) by renames; on any failure no staging folder and no empty parent is left."""
    created_parent = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=final.parent))
    try:
        staging.chmod(0o755)
        fill(staging)
        if final.exists():
            old = final.parent / f".replaced-{uuid.uuid4().hex}"
            os.replace(final, old)
            os.replace(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created_parent:
            with contextlib.suppress(OSError):
                final.parent.rmdir()  # only when empty
        raise
