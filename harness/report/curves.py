"""Detector curves and views as plain numbers: ROC, PR, reliability, threshold accuracy, robustness, generators.

Fake is the positive class and a sample is flagged fake when ``score >= threshold`` (the engine's verdict
rule for score-only models). Samples without a score or without a real/fake label take no part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spotfake.harness.results_contract import Results

RELIABILITY_BINS = 15
"""Equal-width bins over [0, 1] for the reliability diagram (the same binning as the ``ece`` metric)."""


@dataclass(frozen=True)
class Curve:
    """Points of a curve (x, y) with the thresholds that produce them."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class OperatingPoint:
    """Rates at one threshold: fpr (reals flagged), tpr (fakes caught = recall), precision, accuracies."""

    threshold: float
    fpr: float
    tpr: float
    precision: float | None
    acc: float
    acc_real: float | None
    acc_fake: float | None


def _both_classes(labels: np.ndarray) -> bool:
    return bool(labels.size) and 0 < int(labels.sum()) < labels.size


def roc_points(labels: np.ndarray, scores: np.ndarray) -> Curve | None:
    """ROC curve (x = FPR, y = TPR) from scikit-learn; None unless both classes are present."""
    if not _both_classes(labels):
        return None
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(labels, scores, pos_label=1, drop_intermediate=False)
    return Curve(fpr, tpr, thr)


def pr_points(labels: np.ndarray, scores: np.ndarray) -> Curve | None:
    """Precision-recall curve (x = recall, y = precision) from scikit-learn; None without both classes."""
    if not _both_classes(labels):
        return None
    from sklearn.metrics import precision_recall_curve

    precision, recall, thr = precision_recall_curve(labels, scores, pos_label=1)
    return Curve(recall, precision, np.append(thr, np.inf))


def operating_point(labels: np.ndarray, scores: np.ndarray, threshold: float) -> OperatingPoint | None:
    """Rates when flagging ``score >= threshold`` as fake; None without any scored sample."""
    if not labels.size:
        return None
    flagged = scores >= threshold
    fake, real = labels == 1, labels == 0
    n_fake, n_real = int(fake.sum()), int(real.sum())
    caught, false_alarms = int((flagged & fake).sum()), int((flagged & real).sum())
    n_flagged = int(flagged.sum())
    correct = caught + int((~flagged & real).sum())
    return OperatingPoint(
        threshold=float(threshold),
        fpr=false_alarms / n_real if n_real else float("nan"),
        tpr=caught / n_fake if n_fake else float("nan"),
        precision=caught / n_flagged if n_flagged else None,
        acc=correct / labels.size,
        acc_real=1 - false_alarms / n_real if n_real else None,
        acc_fake=caught / n_fake if n_fake else None,
    )


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of the reliability diagram: its edges, how many samples, mean p(fake), share of fakes."""

    low: float
    high: float
    count: int
    mean_score: float | None
    fake_rate: float | None


def reliability_bins(
    labels: np.ndarray, scores: np.ndarray, n_bins: int = RELIABILITY_BINS
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1] (the last one closed); scores outside [0, 1] are clipped into range."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.floor(np.clip(scores, 0.0, 1.0) * n_bins).astype(np.int64), 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        out.append(
            ReliabilityBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                count=count,
                mean_score=float(scores[members].mean()) if count else None,
                fake_rate=float(labels[members].mean()) if count else None,
            )
        )
    return out


def score_histogram(
    labels: np.ndarray, scores: np.ndarray, n_bins: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin edges over [0, 1] and the counts of real and of fake samples per bin (scores clipped)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    clipped = np.clip(scores, 0.0, 1.0)
    real, _ = np.histogram(clipped[labels == 0], bins=edges)
    fake, _ = np.histogram(clipped[labels == 1], bins=edges)
    return edges, real, fake


@dataclass(frozen=True)
class RobustnessPoint:
    """One run of a sweep: model, perturbation name, strength, metric value and its CI."""

    model: str
    perturbation: str
    strength: float | None
    value: float | None
    low: float | None
    high: float | None


def sweep_axis(results: Results) -> tuple[str, float | None]:
    """The axis a run is a point of, with its strength: ``(name, strength)`` of a one-step perturbation,
    ``("clean", None)`` for a clean run, and ``(spec, None)`` for a preset (``social``) or a chain
    (``resize:0.5+jpeg:75``), each an axis of its own with one point."""
    p = results.get("perturbation")
    if p is None:
        return "clean", None
    steps = p["steps"]
    if len(steps) != 1:
        return p["spec"], None
    value = steps[0].get("value")
    return steps[0]["name"], None if value is None else float(value)


def run_label(results: Results) -> str:
    """The run's display name without its perturbation (one curve is one setting across strengths):
    :meth:`harness.run_identity.RunIdentity.display_name`."""
    from spotfake.harness.run_identity import RunIdentity

    return RunIdentity.from_results(results).display_name(with_perturbation=False)


def robustness_points(results: Sequence[Results], metric: str) -> list[RobustnessPoint]:
    """The metric of every run at its :func:`sweep_axis` point, one line per :func:`run_label`."""
    points = []
    for r in results:
        axis = sweep_axis(r)
        value = r["metrics"].get(metric)
        ci = r.get("ci", {}).get(metric) or [None, None]
        points.append(
            RobustnessPoint(
                model=run_label(r),
                perturbation=axis[0],
                strength=axis[1],
                value=None if value is None else float(value),
                low=ci[0],
                high=ci[1],
            )
        )
    return sorted(
        points, key=lambda p: (p.perturbation, p.model, -1e300 if p.strength is None else p.strength)
    )


@dataclass(frozen=True)
class GeneratorBar:
    """A breakdown group's value with its status: ``real``, ``seen`` or ``held-out`` (``None`` if unknown)."""

    group: str
    value: float | None
    n: int
    status: str | None


def generator_bars(
    results: Results,
    metric: str,
    field: str = "generator",
    held_out: Mapping[str, Sequence[str]] | None = None,
) -> list[GeneratorBar]:
    """Per-group values of ``field`` from ``results['breakdowns']``; seen/held-out from the task's list.

    A group whose samples are all real is marked ``real``. Without a held-out list for ``field`` the
    status of fake groups is None (the task does not say which generators were seen).
    """
    groups = results.get("breakdowns", {}).get(field, {})
    unseen = set((held_out or {}).get(field, ()))
    known = field in (held_out or {})
    bars = []
    for group, values in sorted(groups.items()):
        real_only = values.get("acc_fake") is None and values.get("acc_real") is not None
        status = "real" if real_only or group == "real" else ("held-out" if group in unseen else "seen")
        value = values.get(metric)
        bars.append(
            GeneratorBar(
                group=group,
                value=None if value is None else float(value),
                n=int(values.get("n") or 0),
                status=status if status == "real" or known else None,
            )
        )
    return bars
