"""``spotfake run --threshold calibrate=SPLIT``: the model is run on the calibration split first (an ordinary,
cached run with its own folder and run key), a threshold is fitted on that run's scores, and the test run is
scored with it (:mod:`harness.scoring.thresholds`: the rule, and the refusal of the test data).

The calibration split is the test task with the split's arguments on top of its own (``split=val`` over
``split=test``), read from the same data root; the runner calls :func:`calibrated_options` before it runs
the test task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotfake.harness.results import SAMPLES_FILE, read_records
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.scoring.thresholds import fit_threshold, refuse_test_data
from spotfake.harness.task import LoadedTask

if TYPE_CHECKING:
    from spotfake.harness.model import LazyModel, Model
    from spotfake.harness.runner import RunOptions, RunOutcome

    Run = Callable[[Model | LazyModel, Mapping[str, Any], LoadedTask, RunOptions], RunOutcome]


def calibration_task(task: LoadedTask, split: Mapping[str, str]) -> LoadedTask:
    """``task`` read again with ``split``'s arguments over its own (same data root, same metrics)."""
    from spotfake.harness.task import load_task

    source = task.spec.source
    by_file = source.endswith((".yaml", ".yml")) and Path(source).is_file()  # built-ins are read from theirs
    return load_task(
        source if by_file else task.spec.name,
        task.data_root,
        {**task.args, **split},
        metrics=task.metrics_requested,
    )


def calibrated_options(
    model: Model | LazyModel, model_args: Mapping[str, Any], task: LoadedTask, options: RunOptions, run: Run
) -> RunOptions:
    """``options`` whose scoring carries the threshold fitted on the calibration split's run (``run`` is
    :func:`harness.runner.run`). A calibration split that is the test data is refused before the model runs.
    Ranks other than the first get ``options`` back unchanged: only the first one scores."""
    request = options.scoring.calibration
    if request is None or request.threshold is not None:
        return options
    held = calibration_task(task, request.split)
    source = TaskIdentity.of(held)
    refuse_test_data(source, TaskIdentity.of(task), request.spec)
    plain = dataclasses.replace(options, scoring=dataclasses.replace(options.scoring, calibration=None))
    outcome = run(model, model_args, held, plain)
    if outcome.results is None:
        return options
    records = read_records(outcome.folder / SAMPLES_FILE)
    fitted = fit_threshold(records, request, source, outcome.results.get("run_key"))
    return dataclasses.replace(options, scoring=dataclasses.replace(options.scoring, calibration=fitted))
