"""LOKI's weighted overall accuracy (``loki_overall``): the figure LOKI's paper reports for a task.

Source: github.com/opendatalab/LOKI, ``lm_evaluate/tasks/loki.py`` at commit 251b4f6, ``aggregate_results``,
lines 516-651. Questions fall in a *fake* group and a *real* group per category: for yes/no questions the
group is the image's truth (``image_fake_ask_*`` / ``image_real_ask_*``, lines 542-551), for
multiple-choice questions the image asked for (``mc_fake_from_*`` / ``mc_real_from_*``, lines 555-566).
Per category, the figure is the mean of the fake group's and the real group's accuracy (a category
without real questions uses its fake accuracy twice; lines 616-619); the overall figure is the mean of
these per-category figures weighted by the number of *fake* questions of each category (lines 638-640).
When exactly one category has real questions, its real accuracy is used for every category (lines
579-597). Unparsed answers count as wrong, as LOKI's "other" does. Undefined (NaN) without fake or real
questions (LOKI divides by zero there).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from spotfake.harness.metrics.columns import is_correct
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.types import Record

_GROUPS: weakref.WeakKeyDictionary[MetricInputs, tuple[FloatArray, FloatArray, FloatArray]]
_GROUPS = weakref.WeakKeyDictionary()


def loki_group(record: Record, answer_kind: str) -> str | None:
    """The group LOKI files a question under: what a choice question asks for, else the image's truth."""
    if answer_kind == "choice":
        asks = record.metadata.get("asks")
        return asks if asks in ("real", "fake") else None
    return record.label


def group_matrices(records: Sequence[Record], answer_kind: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(fake one-hot, real one-hot, correct): (n, G), (n, G) and (n,) arrays over the G categories."""
    categories = sorted({str(r.category) for r in records})
    index = {c: i for i, c in enumerate(categories)}
    fake = np.zeros((len(records), len(categories)))
    real = np.zeros_like(fake)
    correct = np.zeros(len(records))
    for i, record in enumerate(records):
        group = loki_group(record, answer_kind)
        right = is_correct(record, answer_kind)
        if group is None or right is None:
            continue
        (fake if group == "fake" else real)[i, index[str(record.category)]] = 1.0
        correct[i] = float(right)
    return fake, real, correct


def loki_weighted_accuracy(
    fake: FloatArray, real: FloatArray, correct: FloatArray, weights: FloatArray
) -> FloatArray:
    """LOKI's overall figure for each row of ``weights`` (b, n); see the module docstring for the rule."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    fake_n, real_n = w @ fake, w @ real
    fake_right, real_right = w @ (fake * correct[:, None]), w @ (real * correct[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        fake_acc = fake_right / fake_n
        real_acc = np.where(real_n > 0, real_right / real_n, fake_acc)
        single = real_right.sum(axis=1) / real_n.sum(axis=1)  # the one real category's accuracy
        n_real_keys = (real_n > 0).sum(axis=1)
        real_acc = np.where((n_real_keys == 1)[:, None], single[:, None], real_acc)
        per_category = np.where(fake_n > 0, (fake_acc + real_acc) / 2, 0.0)
        total = (fake_n * per_category).sum(axis=1) / fake_n.sum(axis=1)
    out: FloatArray = np.where(n_real_keys > 0, total, np.nan)
    return out


def evaluate_loki_overall(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """``loki_overall`` over a task's records (the groups are built once per set of records)."""
    groups = _GROUPS.get(inputs)
    if groups is None:
        groups = group_matrices(inputs.records, inputs.answer_kind)
        _GROUPS[inputs] = groups
    return loki_weighted_accuracy(*groups, weights)


LOKI_OVERALL = MetricDef(
    name="loki_overall",
    label="LOKI overall",
    evaluate=evaluate_loki_overall,
    needs="verdicts",
    card="LOKI's figure: per category, mean of fake and real accuracy, weighted by fake questions",
)
"""Registered with the built-in metrics; the loki-judgment and loki-mc tasks report it."""
