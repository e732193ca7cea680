"""Threshold policy: accuracy at 0.5 is always the headline; a threshold calibrated on a validation split is
reported beside it; a threshold fitted on the test data is refused, whichever way it arrives.

``--threshold`` takes a number (the p(fake) threshold of score-only models' verdicts, 0.5 by default) or
``calibrate=SPLIT``: the task arguments of a split its reader accepts (``calibrate=split=val``;
``calibrate=val`` is short for it). With ``calibrate=``, ``spotfake run`` first runs the model on that split
(an ordinary cached run, :mod:`harness.calibrate`), fits a threshold on its scores (:func:`fit_threshold`)
and scores the test run with it: the verdicts, and ``acc``, stay at the fixed threshold, and
``acc_calibrated`` is the accuracy of the test scores at the fitted one (:mod:`harness.metrics.calibrated`).

A fitted threshold is a :class:`Calibration` that always carries the identity of the data it was fitted on
(:class:`harness.run_identity.TaskIdentity`): there is no other way to hand a computed threshold to scoring.
Scoring refuses one whose source is the scored task itself or has the same data fingerprint
(:func:`checked_calibration`): calibrating on the test split, on another name for the same files, or a
results file that claims such a threshold, all end in one line. A number given as ``--threshold 0.37`` is
the model's declared setting, not a computed one; spotfake computes no threshold from test labels (the
``acc_oracle`` diagnostic is an accuracy and hands no threshold on).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.types import Record

CALIBRATED_METRIC = "acc_calibrated"
RULE = (
    "the threshold with the highest balanced accuracy on the calibration split's scored, labelled samples "
    "(Youden's J; fake when p(fake) >= threshold): the midpoint between that sample score and the next lower "
    "one; ties go to the highest"
)


def _split_args(text: str) -> dict[str, str]:
    """``split=val`` or ``split=val,subset=x`` (``--task-args`` syntax); a bare ``val`` means ``split=val``."""
    from spotfake.harness.task import parse_task_args

    if "=" not in text:
        return {"split": text.strip()} if text.strip() else {}
    return parse_task_args(text)


class SourceEntry(TypedDict):
    """The calibration split's task identity as ``results.json`` records it."""

    name: str
    version: str
    data_fingerprint: str
    args: dict[str, str]
    default_args: dict[str, str]


class CalibrationEntry(TypedDict):
    """``results.json['scoring']['calibration']``."""

    threshold: float | None
    rule: str
    split: dict[str, str]
    task: SourceEntry | None
    run_key: str | None
    n_real: int
    n_fake: int
    balanced_acc: float | None


class ThresholdFields(TypedDict):
    """The :class:`harness.scoring.ScoringOptions` fields that ``--threshold`` sets."""

    threshold: float
    calibration: Calibration | None


@dataclass(frozen=True)
class Calibration:
    """A calibrated threshold: the split it is fitted on, and once fitted, the value and its source."""

    split: Mapping[str, str]
    """The task arguments that name the calibration split (``{"split": "val"}``)."""
    threshold: float | None = None
    source: TaskIdentity | None = None
    """The identity of the task (split) the threshold was fitted on."""
    run_key: str | None = None
    n_real: int = 0
    n_fake: int = 0
    balanced_acc: float | None = None
    """The balanced accuracy at the threshold on the calibration split itself."""

    @property
    def spec(self) -> str:
        """``calibrate=split=val`` as given on the command line (canonical order)."""
        return "calibrate=" + ",".join(f"{k}={v}" for k, v in sorted(self.split.items()))

    def entry(self) -> CalibrationEntry:
        """``results.json['scoring']['calibration']``."""
        source = self.source
        return {
            "threshold": self.threshold,
            "rule": RULE,
            "split": dict(self.split),
            "task": None
            if source is None
            else {
                "name": source.name,
                "version": source.version,
                "data_fingerprint": source.data_fingerprint,
                "args": dict(source.args),
                "default_args": {k: str(v) for k, v in (source.defaults or {}).items()},
            },
            "run_key": self.run_key,
            "n_real": self.n_real,
            "n_fake": self.n_fake,
            "balanced_acc": self.balanced_acc,
        }

    @classmethod
    def from_entry(cls, entry: object, where: str) -> Calibration:
        """The calibration a results file records (a submission); a malformed entry is one line."""
        bad = SpotfakeError(
            f"{where}: scoring.calibration must record its threshold (a number in [0, 1]), split and task"
        )
        if not isinstance(entry, Mapping):
            raise bad
        threshold, split, task = entry.get("threshold"), entry.get("split"), entry.get("task")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise bad
        if not 0.0 <= threshold <= 1.0 or not isinstance(split, Mapping) or not isinstance(task, Mapping):
            raise bad
        run_key = entry.get("run_key")
        return cls(
            split={str(k): str(v) for k, v in split.items()},
            threshold=float(threshold),
            source=TaskIdentity.from_entry(task),
            run_key=None if run_key is None else str(run_key),
        )


@dataclass(frozen=True)
class ThresholdArg:
    """What ``--threshold`` says: a fixed threshold, and a calibration split or none."""

    value: float = 0.5
    calibrate: Mapping[str, str] | None = None

    def fields(self) -> ThresholdFields:
        """The :class:`harness.scoring.ScoringOptions` fields it sets (``threshold``, ``calibration``)."""
        calibration = None if self.calibrate is None else Calibration(split=dict(self.calibrate))
        return {"threshold": self.value, "calibration": calibration}


def threshold_arg(text: str) -> ThresholdArg:
    """``--threshold``: a number in [0, 1], or ``calibrate=SPLIT`` (an argparse ``type``)."""
    raw = text.strip()
    if raw.startswith("calibrate="):
        try:
            split = _split_args(raw[len("calibrate=") :])
        except SpotfakeError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not split:
            raise argparse.ArgumentTypeError(
                "calibrate= names no split: give the calibration split's task arguments, e.g. calibrate=split=val"
            )
        return ThresholdArg(calibrate=split)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a p(fake) threshold in [0, 1] nor calibrate=SPLIT (e.g. calibrate=split=val)"
        )
    return ThresholdArg(value=value)


def refuse_test_data(source: TaskIdentity, test: TaskIdentity, spec: str) -> None:
    """One line when ``source`` (where a threshold is fitted) is the test task itself or the same data."""
    if source.key_fields() == test.key_fields():
        why = "the test task itself (same task identity)"
    elif source.data_fingerprint == test.data_fingerprint:
        why = (
            f"the same data as the test task (data fingerprint {source.data_fingerprint}; a task without one "
            "cannot tell its splits apart)"
        )
    else:
        return
    raise SpotfakeError(
        f"--threshold {spec}: task {test.name}'s calibration split is {why}; a threshold fitted on the test "
        "labels is refused: calibrate on a validation split (docs/protocols.md, Thresholds)"
    )


def checked_calibration(calibration: Calibration | None, test: TaskIdentity) -> Calibration | None:
    """``calibration`` when scoring ``test`` may use it: fitted, and on other data than ``test``'s."""
    if calibration is None:
        return None
    if calibration.threshold is None or calibration.source is None:
        raise SpotfakeError(
            f"--threshold {calibration.spec}: the threshold is fitted by running the model on that split, "
            "which only `spotfake run` does; score the test predictions at a fixed threshold, or use spotfake run"
        )
    refuse_test_data(calibration.source, test, calibration.spec)
    return calibration


def with_calibrated(metrics: Iterable[str], calibration: Calibration | None) -> list[str]:
    """The metrics to compute: ``metrics``, and ``acc_calibrated`` when a threshold was calibrated."""
    chosen = list(metrics)
    if calibration is not None and CALIBRATED_METRIC not in chosen:
        chosen.append(CALIBRATED_METRIC)
    return chosen


def fit_threshold(
    records: Iterable[Record], calibration: Calibration, source: TaskIdentity, run_key: str | None
) -> Calibration:
    """``calibration`` fitted on ``records`` (the calibration run's): the threshold of :data:`RULE`.

    Only records with a real/fake label and a finite score count; a split without scores or without both
    classes is one line naming it."""
    from sklearn.metrics import roc_curve

    pairs = [
        (r.label == "fake", float(r.score))
        for r in records
        if r.label in ("real", "fake") and r.score is not None and math.isfinite(float(r.score))
    ]
    n_fake = sum(fake for fake, _ in pairs)
    n_real = len(pairs) - n_fake
    where = f"--threshold {calibration.spec} (task {source.name}, {dict(source.args)})"
    if not pairs:
        raise SpotfakeError(
            f"{where}: no p(fake) scores with a real/fake label on the calibration split; calibration needs a "
            "model that scores (a verdict-only model has one operating point)"
        )
    if not n_fake or not n_real:
        raise SpotfakeError(
            f"{where}: the calibration split has {n_real} real and {n_fake} fake scored samples; "
            "it needs both classes"
        )
    fpr, tpr, thresholds = roc_curve(
        [fake for fake, _ in pairs], [score for _, score in pairs], drop_intermediate=False
    )
    best = 1 + int((tpr[1:] - fpr[1:]).argmax())  # thresholds[0] is above every score (nothing flagged)
    value = float(thresholds[best])
    if best + 1 < len(thresholds):
        value = (value + float(thresholds[best + 1])) / 2
    return Calibration(
        split=dict(calibration.split),
        threshold=value,
        source=source,
        run_key=run_key,
        n_real=n_real,
        n_fake=n_fake,
        balanced_acc=float((tpr[best] + 1.0 - fpr[best]) / 2),
    )
