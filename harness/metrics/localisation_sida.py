"""SIDA's own figures (``hzlsaber/SIDA`` ``test.py``), under their own names, so its tables can be matched.

SIDA classifies each image as real, full synthetic or tampered, and prints, beside gIoU and cIoU
(:mod:`harness.metrics.localisation`: the same definitions):

- ``sida_acc3``: 3-class accuracy over every image ("Classification Accuracy");
- ``sida_f1``: what it prints as "F1 Score": the **harmonic mean of cIoU and the 3-class accuracy**, not
  an F1 of any classifier;
- ``sida_auc``: what it prints as "Approximate AUC": the **mean precision times the mean recall** of the
  three classes (a class never predicted has precision 0), not an area under any curve.

The true class is the record's metadata ``kind`` (``real``, ``full_synthetic``, ``tampered``: the SID-Set
and So-Fake-OOD readers write it); other records have none. The predicted class is read from the model's
answer by :func:`sida_class` (SIDA answers "[CLS] The image is tampered"); an answer that names no class
counts "real" when its verdict is real and no class otherwise (wrong, and no column of the confusion
matrix: a detector that only says fake cannot tell full synthetic from tampered). These are diagnostics
for matching a paper, never ranked by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.localisation import REGION_OVERLAP, ciou, weighted_mean
from spotfake.harness.metrics.record_fields import FieldContext, FieldValue, RecordField
from spotfake.harness.metrics.registry import MetricDef, register_metric, register_metric_group
from spotfake.harness.metrics.types import FloatArray

CLASSES = ("real", "full_synthetic", "tampered")
TRUTH_FIELD = "kind"
"""The metadata field that holds a record's true class."""

_NAME = r"(real|full[\s_-]?synthetic|fully[\s_-]?synthetic|tampered)\b"
_STATED = re.compile(rf"(?:image\s+is|classified\s+as)\s+(?:an?\s+)?(?:image\s+)?{_NAME}", re.IGNORECASE)
_ANY = re.compile(rf"\b{_NAME}", re.IGNORECASE)


def sida_class(text: str | None, verdict: str | None) -> str | None:
    """The class an answer states: the one after "image is" / "classified as", else the first class
    word, else ``real`` for a real verdict; None when none can be told."""
    found = (_STATED.search(text) or _ANY.search(text)) if text else None
    if found is not None:
        word = found.group(1).lower()
        return "tampered" if word == "tampered" else "real" if word == "real" else "full_synthetic"
    return "real" if verdict == "real" else None


def _compute(context: FieldContext) -> Sequence[FieldValue]:
    """The predicted class per record that has a true class (None for the others)."""
    out: list[FieldValue] = []
    for record in context.records:
        if (record.metadata or {}).get(TRUTH_FIELD) not in CLASSES:
            out.append(None)
            continue
        text = record.response if record.error is None else None
        out.append(sida_class(text, record.verdict) or "")
    return out


SIDA_CLASS = RecordField(
    "sida_class",
    "string",
    _compute,
    "the class (real, full_synthetic, tampered) the answer states; '' when it states none",
)


def _classes(inputs: MetricInputs) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) one-hot true classes and (n, 3) one-hot predicted classes (rows of zeros where none)."""
    truth = np.zeros((len(inputs.records), 3))
    predicted = np.zeros((len(inputs.records), 3))
    for i, record in enumerate(inputs.records):
        kind = (record.metadata or {}).get(TRUTH_FIELD)
        if kind in CLASSES:
            truth[i, CLASSES.index(kind)] = 1.0
            said = record.metric_field(SIDA_CLASS.name)
            if said in CLASSES:
                predicted[i, CLASSES.index(said)] = 1.0
    return truth, predicted


def sida_acc3(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """3-class accuracy over the records with a true class."""
    truth, predicted = _classes(inputs)
    return weighted_mean((truth * predicted).sum(axis=1), truth.sum(axis=1) > 0, weights)


def sida_f1(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """SIDA's "F1 Score": 2 * cIoU * acc / (cIoU + acc), 0 when both are 0."""
    iou, acc = ciou(inputs, weights), sida_acc3(inputs, weights)
    total = iou + acc
    return np.divide(2.0 * iou * acc, total, out=np.where(np.isnan(total), np.nan, 0.0), where=total > 0)


def sida_auc(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """SIDA's "Approximate AUC": mean over the 3 classes of precision, times the mean of recall."""
    truth, predicted = _classes(inputs)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    hits = w @ (truth * predicted)
    said, actual = w @ predicted, w @ truth
    precision = np.divide(hits, said, out=np.zeros_like(hits), where=said > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    value = precision.mean(axis=1) * recall.mean(axis=1)
    return np.where(actual.sum(axis=1) > 0, value, np.nan)


def sida_metrics() -> list[MetricDef]:
    """SIDA's 3-class accuracy, "F1 Score" and "Approximate AUC", never ranked by."""
    return [
        MetricDef(
            "sida_acc3",
            "Acc 3-class (SIDA)",
            sida_acc3,
            card="real / full synthetic / tampered accuracy, the class read from the answer",
            record_fields=(SIDA_CLASS,),
            ranked=False,
        ),
        MetricDef(
            "sida_f1",
            "F1 (SIDA: cIoU-acc)",
            sida_f1,
            card="SIDA's 'F1 Score': harmonic mean of cIoU and 3-class accuracy (not a classifier F1)",
            record_fields=(REGION_OVERLAP, SIDA_CLASS),
            ranked=False,
        ),
        MetricDef(
            "sida_auc",
            "AUC (SIDA: P x R)",
            sida_auc,
            card="SIDA's 'Approximate AUC': mean class precision x mean class recall (not a ROC area)",
            record_fields=(SIDA_CLASS,),
            ranked=False,
        ),
    ]


def register_sida_metrics() -> None:
    """Register SIDA's three figures and the group ``sida``."""
    for metric in sida_metrics():
        register_metric(metric, replace=True)
    register_metric_group(
        "sida",
        ("sida_acc3", "sida_f1", "sida_auc"),
        description="SIDA test.py's figures: 3-class accuracy, its 'F1' (cIoU-accuracy) and 'AUC' (P x R)",
        replace=True,
    )
