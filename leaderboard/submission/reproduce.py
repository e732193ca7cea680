"""``spotfake verify-run``: the *reproduced* tier. A submission that declares a registered model (adapter,
arguments, settings with the sha256 of every weight file) is re-run here on the board's copy of the task;
it is accepted when the model settings are the declared ones and the per-sample answers agree within the
model kind's tolerance (:mod:`.agreement`). What is stored is this host's own run, under
``<results-dir>/reproduced/``, with ``provenance.tier = "reproduced"`` and what was compared.

Steps, each refusing with one line: the submission's own checks (:func:`check_submission`: it must
recompute), a registered model name, the re-run (``--model-args`` give this host's paths), the settings
(sha256 of the weights included), the answers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, read_records, utc_now
from spotfake.harness.results_contract import Results
from spotfake.leaderboard.received import SubmissionFiles
from spotfake.leaderboard.submission.agreement import (
    TOLERANCES,
    Agreement,
    Tolerance,
    compare_answers,
    settings_differences,
)
from spotfake.leaderboard.submission.store import publish_folder, sha256

REPRODUCED_DIR = "reproduced"


@dataclass(frozen=True)
class Reproduction:
    """A submission this host reproduced: where its own run was stored and how closely it agreed."""

    folder: Path
    results: Results
    agreement: Agreement


def tolerance_for(kind: str, score_atol: float | None = None, flip_rate: float | None = None) -> Tolerance:
    """The model kind's default tolerance, with either part overridden."""
    base = TOLERANCES.get(kind, TOLERANCES["lmm"])
    if flip_rate is not None and not 0.0 <= flip_rate <= 1.0:
        raise SpotfakeError(f"--flip-rate must be in [0, 1], got {flip_rate}")
    if score_atol is not None and not score_atol >= 0.0:
        raise SpotfakeError(f"--score-atol must be >= 0, got {score_atol}")
    return Tolerance(
        score_atol=base.score_atol if score_atol is None else score_atol,
        flip_rate=base.flip_rate if flip_rate is None else flip_rate,
    )


def reproduce(
    files: SubmissionFiles,
    results_dir: Path,
    work_dir: Path,
    *,
    data_root: Path | None = None,
    model_args: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    score_atol: float | None = None,
    flip_rate: float | None = None,
    replace: bool = False,
    progress: Callable[[str], object] = lambda _step: None,
) -> Reproduction:
    """Re-run the model a submission declares and store this host's run as reproduced (see the module)."""
    from spotfake.harness.model import LazyModel, registered_kind
    from spotfake.harness.registry import MODELS
    from spotfake.harness.runner import RunOptions, run
    from spotfake.leaderboard.submission import check_submission
    from spotfake.leaderboard.submission.verify import load_task_for, scoring_options

    progress("Checking the submission (it must recompute)")
    checked = check_submission(files, data_root=data_root)
    claimed = checked.results
    name = claimed["model"]["name"]
    try:
        MODELS.entry(name)
    except SpotfakeError as exc:
        raise SpotfakeError(
            f"{RESULTS_FILE}: model {name!r} is not a model spotfake can build here ({exc}); only a registered "
            "adapter can be reproduced, the submission stays self-reported"
        ) from None
    kind = registered_kind(name)
    if kind != claimed["model"]["kind"]:
        raise SpotfakeError(
            f"{RESULTS_FILE}: model {name!r} is declared as kind {claimed['model']['kind']!r}, but the adapter "
            f"of that name is {kind!r}"
        )
    tolerance = tolerance_for(kind, score_atol, flip_rate)
    args = {str(k): str(v) for k, v in (claimed["model"].get("args") or {}).items()} | dict(model_args or {})
    if not replace:  # the run this host would store, named before anything runs
        _refuse_if_stored(
            cast(Results, {**claimed, "model": {**claimed["model"], "args": args}}), results_dir
        )
    task = load_task_for(claimed, data_root)
    declared_seed = (claimed.get("settings") or {}).get("seed", 0)
    options = RunOptions(
        output_dir=work_dir,
        batch_size=batch_size,
        seed=declared_seed if isinstance(declared_seed, int) else 0,
        progress=False,
        scoring=scoring_options(claimed),
    )
    progress(f"Running {name!r} on {task.spec.name!r} ({len(task.samples):,} samples)")
    model = LazyModel(name, args)
    try:
        outcome = run(model, args, task, options)
    finally:
        model.close()
    ours = outcome.results
    if ours is None:  # only a non-zero rank of a distributed launch gets None
        raise SpotfakeError("spotfake verify-run runs in one process; do not launch it with torchrun")
    differ = settings_differences(claimed["model"]["settings"], ours["model"]["settings"])
    if differ:
        raise SpotfakeError(
            f"{RESULTS_FILE}: the model here is not the declared one ({len(differ)} setting(s) differ: "
            f"{'; '.join(differ[:3])}); give the declared checkpoint and arguments with --model-args"
        )
    progress("Comparing the answers sample by sample")
    threshold = float((claimed.get("scoring") or {}).get("threshold", 0.5))
    agreement = compare_answers(
        checked.records, read_records(outcome.folder / SAMPLES_FILE), tolerance, threshold
    )
    if not agreement.reproduced:
        raise SpotfakeError(
            f"{SAMPLES_FILE}: the re-run does not reproduce the submission: {agreement.refusal()}"
        )
    ours["provenance"] = {
        "tier": "reproduced",
        "verified": utc_now(),
        "submission": {"results_sha256": sha256(files.results), "samples_sha256": sha256(files.samples)},
        "agreement": agreement.summary(),
    }
    progress("Storing this host's run as reproduced")
    folder = store_reproduced(ours, outcome.folder / SAMPLES_FILE, results_dir, replace=replace)
    return Reproduction(folder, ours, agreement)


def _refuse_if_stored(results: Results, results_dir: Path) -> None:
    from spotfake.harness.run_identity import RunIdentity

    final = RunIdentity.from_results(results).folder(results_dir / REPRODUCED_DIR)
    if final.exists():
        raise SpotfakeError(
            f"a reproduced run of {results['model']['name']!r} on {results['task']['name']!r} is already "
            f"stored ({final}); add --replace to replace it"
        )


def store_reproduced(results: Results, samples: Path, results_dir: Path, *, replace: bool = False) -> Path:
    """Write ``results`` and the run's records under ``<results-dir>/reproduced/`` atomically (a complete
    folder appears at once, or nothing does); an existing folder is replaced only with ``replace``."""
    from spotfake.harness.run_identity import RunIdentity

    if not replace:
        _refuse_if_stored(results, results_dir)
    final = RunIdentity.from_results(results).folder(results_dir / REPRODUCED_DIR)

    def fill(staging: Path) -> None:
        text = json.dumps(results, indent=2, allow_nan=False) + "\n"
        (staging / RESULTS_FILE).write_text(text, encoding="utf-8")
        shutil.copyfile(samples, staging / SAMPLES_FILE)
        for path in staging.iterdir():
            path.chmod(0o644)

    publish_folder(final, fill)
    return final
