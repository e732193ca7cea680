"""``spotfake score``: saved predictions through the same scoring path as a fresh run, never over a run.

The predictions get a folder of their own, ``<output-dir>/<model-name>/<task>/``. A folder that already
holds a run is refused unless ``--replace`` is given (re-scoring the same predictions file again is not
a replacement); even then the records there are kept in ``samples.previous-<key>.jsonl``, never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import read_json_strict
from spotfake.harness.locking import FolderLock
from spotfake.harness.record_store import read_tolerant, record_files
from spotfake.harness.results import RESULTS_FILE, ModelInfo
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity, TaskIdentity, check_plain_name
from spotfake.harness.runner import finalize
from spotfake.harness.scoring import ScoringOptions, records_from_responses
from spotfake.harness.scoring.thresholds import checked_calibration
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Response


def _holds_another_run(folder: Path, key: str) -> bool:
    """Whether ``folder``'s current results or records belong to a run key other than ``key`` (records
    kept from earlier keys, ``samples.previous-*``, are history, not a current run)."""
    results = folder / RESULTS_FILE
    if results.exists():
        data = read_json_strict(results, what="results file")
        return not isinstance(data, dict) or data.get("run_key") != key
    return any(r.run_key != key for path in record_files(folder) for r in read_tolerant(path))


def score_predictions(
    task: LoadedTask,
    responses: Mapping[str, Response],
    *,
    model_name: str,
    output_dir: Path,
    scoring_options: ScoringOptions,
    source_file: str,
    fingerprint: str,
    replace: bool = False,
    model_kind: str | None = None,
) -> tuple[Path, Results]:
    """Re-score saved predictions through the same code as a fresh run; returns the folder and results.

    Ids absent from ``responses`` count as missing; ids the task does not have are an error naming a few.
    ``model_kind`` (lmm, expert, baseline) decides, as in a run, whether explanation metrics apply; by
    default an answer file with text is an LMM's and one with scores only an expert's.
    """
    check_plain_name(model_name)
    # a calibrated threshold comes from a run of the calibration split, never from a predictions file
    checked_calibration(scoring_options.calibration, TaskIdentity.of(task))
    task_ids = {s.id for s in task.samples}
    unknown = [i for i in responses if i not in task_ids]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:3])
        raise SpotfakeError(
            f"{source_file}: {len(unknown)} id(s) are not in task {task.spec.name!r} (e.g. {shown}); "
            "check --task, --data-root and --task-args"
        )
    if model_kind is None:
        model_kind = "lmm" if any(r.text for r in responses.values()) else "expert"
    info = ModelInfo(
        name=model_name,
        kind=model_kind,
        args={"predictions": Path(source_file).name},
        settings={"source": "predictions file"},
        fingerprint=fingerprint,
        parameters_note="scored from a predictions file: no model was loaded",
    )
    identity = RunIdentity.of(model_name, {}, task).with_fingerprint(fingerprint)
    key = identity.key
    folder = identity.folder(output_dir)
    with FolderLock(folder, what="run folder"):
        if not replace and _holds_another_run(folder, key):
            raise SpotfakeError(
                f"{folder} already holds another run; choose another --model-name, or pass --replace "
                "(its records are then kept in samples.previous-<key>.jsonl)"
            )
        found = records_from_responses(task, responses, key)
        results = finalize(
            task,
            info,
            folder,
            key,
            scoring_options,
            settings={"batch_size": None, "limit": None, "seed": scoring_options.seed, "strict": False},
            timing={"wall_s": None, "n_predicted": 0},
            found=found,
        )
    return folder, results
