"""The audit of one task: per-class distributions of header facts and the format-only baseline's AUC."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from spotfake.harness.audit.facts import FORMATS, ImageFacts, read_facts
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Sample

FLAG_AUC = 0.6
"""A format-only baseline above this AUC means a detector can score well without looking at content."""
AUDIT_VERSION = "spotfake-audit-1"
CLASSES = ("real", "fake")


def _quantiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    p10, p50, p90 = np.percentile(np.asarray(values, dtype=float), [10, 50, 90])
    return {"p10": round(float(p10), 3), "median": round(float(p50), 3), "p90": round(float(p90), 3)}


def class_summary(facts: Sequence[ImageFacts], unreadable: int) -> dict[str, Any]:
    """Counts by format, JPEG quality, width, height and aspect distributions of one class."""
    qualities = [f.jpeg_quality for f in facts if f.jpeg_quality is not None]
    return {
        "n": len(facts),
        "unreadable": unreadable,
        "formats": {fmt: n for fmt in FORMATS if (n := sum(f.format == fmt for f in facts))},
        "jpeg_quality": _quantiles(qualities),
        "jpeg_quality_top": [[q, n] for q, n in Counter(qualities).most_common(3)],
        "width": _quantiles([f.width for f in facts]),
        "height": _quantiles([f.height for f in facts]),
        "aspect": _quantiles([f.width / f.height for f in facts]),
    }


def format_only_auc(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[float | None, str]:
    """Cross-validated AUC of a logistic regression on header features (1 = fake); ``(None, why)`` when
    a class has fewer than two images or every feature is constant."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    smallest = int(min((labels == 0).sum(), (labels == 1).sum()))
    if smallest < 2:
        return None, "fewer than two readable images in a class"
    if np.all(features == features[0]):
        return 0.5, "every image has the same format, quality and size"
    folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = cross_val_predict(model, features, labels, cv=folds, method="predict_proba")[:, 1]
    return round(float(roc_auc_score(labels, scores)), 4), f"{folds.get_n_splits()}-fold cross-validation"


def _picked(samples: Sequence[Sample], per_class: int | None, seed: int) -> list[Sample]:
    """At most ``per_class`` labelled samples of each class with an image, drawn with a fixed seed."""
    out: list[Sample] = []
    for label in CLASSES:
        of_class = [s for s in samples if s.label == label and s.images]
        if per_class is not None and len(of_class) > per_class:
            of_class = random.Random(f"{seed}:{label}").sample(of_class, per_class)
        out += of_class
    return out


def audit_task(task: LoadedTask, *, per_class: int | None = 2000, seed: int = 0) -> dict[str, Any]:
    """The audit of ``task`` (the first image of each labelled sample; at most ``per_class`` per class)."""
    facts: dict[str, list[ImageFacts]] = {c: [] for c in CLASSES}
    unreadable: Counter[str] = Counter()
    for sample in _picked(task.samples, per_class, seed):
        found = read_facts(sample.images[0])
        if found is None:
            unreadable[str(sample.label)] += 1
        else:
            facts[str(sample.label)].append(found)
    rows = [(f.features(), 1 if c == "fake" else 0) for c in CLASSES for f in facts[c]]
    auc, how = (
        (None, "no readable image")
        if not rows
        else format_only_auc(
            np.asarray([r[0] for r in rows], dtype=float), np.asarray([r[1] for r in rows]), seed
        )
    )
    return {
        "version": AUDIT_VERSION,
        "task": task.spec.name,
        "data_fingerprint": task.data_fingerprint,
        "args": {k: str(v) for k, v in sorted(task.args.items())},
        "per_class_limit": per_class,
        "seed": seed,
        "classes": {c: class_summary(facts[c], unreadable[c]) for c in CLASSES},
        "format_only_auc": auc,
        "baseline": f"logistic regression on format, JPEG quality, log size, aspect, bytes/pixel; {how}",
        "flagged": auc is not None and auc > FLAG_AUC,
    }
