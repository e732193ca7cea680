"""Which positive class a published F1 uses, from its own arithmetic.

A paper's "F1" is one of several numbers: F1 with real as the positive class (spotfake's ``f1``, the
convention FakeVLM's FakeClue row reproduces with), with fake positive (``f1_fake``), or the mean of the
two (``f1_macro``) or their mean weighted by class size (scikit-learn's ``average="weighted"``).
Given the accuracy printed beside it and the class counts of the set it was measured on, only some of
them can be true: :func:`consistent_f1_classes` enumerates every binary confusion matrix with those
counts whose accuracy rounds to the printed one and says which conventions give the printed F1.
:func:`read_f1` turns that into one label per published row, which ``leaderboard.import_reported``
records (``reported.f1_positive_class``) and files the number under (:data:`F1_METRICS`), so a board
column never ranks one convention against another.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

F1_CLASSES = ("real", "fake", "macro", "weighted", "unknown")
"""What a published F1 can be read as; ``unknown`` when the arithmetic and the paper do not settle it."""

F1_METRICS = {"real": "f1", "fake": "f1_fake", "macro": "f1_macro"}
"""The spotfake metric a published F1 of each class is the same number as (weighted and unknown: none,
so such a figure is kept in ``reported.published_f1`` and ranked nowhere)."""


@dataclass(frozen=True)
class ClassCounts:
    """The real and fake counts of the set a table's rows were measured on, and how well they are known."""

    n_real: int
    n_fake: int
    source: str
    """Where the counts come from, in a few words (shown in each row's note)."""
    exact: bool
    """True when these are the set's own counts; False for a stand-in (a share inferred from another row,
    or the full set for an unreleased subset): then only the two binary readings are tried, since the
    averaged ones fit almost any figure once the counts are loose."""


COUNTS = {
    "fakeclue": ClassCounts(1808, 3192, "FakeClue test split", exact=True),
    "ddvqa": ClassCounts(
        480,
        843,
        "DD-VQA's 1,323 test questions; its 262 images, 84 real and 178 fake, cannot give these accuracies",
        exact=True,
    ),
    "loki": ClassCounts(
        900, 1317, "LOKI's full image set, standing in for the paper's unreleased subset", exact=False
    ),
    "dmimage": ClassCounts(
        2054,
        7946,
        "real share 0.205 from CNNSpot's per-class accuracies in this table, 0.878 real and 0.284 fake at "
        "0.406 overall; the set's counts are unpublished",
        exact=False,
    ),
}
"""Class counts per published dataset (the tables' own sets as far as they are known)."""


def _f1(right: np.ndarray, errors: int) -> np.ndarray:
    """F1 of one class given its correct answers and all errors (0 where nothing is positive)."""
    den = 2 * right + errors
    return np.divide(2 * right, den, out=np.zeros_like(right), where=den > 0)


def f1_by_convention(acc: float, n_real: int, n_fake: int, decimals: int = 3) -> dict[str, np.ndarray]:
    """Every binary confusion matrix of ``n_real`` reals and ``n_fake`` fakes (each answer "real" or
    "fake") whose accuracy rounds to ``acc`` at ``decimals``: its F1 under each convention (pure)."""
    n = n_real + n_fake
    half = 0.5 * 10.0**-decimals + 1e-9
    totals = [t for t in range(math.floor((acc - half) * n), math.ceil((acc + half) * n) + 1) if 0 <= t <= n]
    out: dict[str, list[np.ndarray]] = {"real": [], "fake": [], "macro": [], "weighted": []}
    for t in totals:
        if abs(t / n - acc) > half:
            continue
        right_real = np.arange(max(0, t - n_fake), min(n_real, t) + 1, dtype=np.float64)
        right_fake = t - right_real
        errors = n - t  # every miss of one class is a false positive of the other
        f1_real = _f1(right_real, errors)
        f1_fake = _f1(right_fake, errors)
        out["real"].append(f1_real)
        out["fake"].append(f1_fake)
        out["macro"].append((f1_real + f1_fake) / 2)
        out["weighted"].append((n_real * f1_real + n_fake * f1_fake) / n)
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def consistent_f1_classes(
    acc: float, f1: float, n_real: int, n_fake: int, *, decimals: int = 3, averaged: bool = True
) -> tuple[str, ...]:
    """The conventions (of real, fake, macro, weighted; ``averaged=False``: the binary two) under which
    some confusion matrix with these counts gives both ``acc`` and ``f1`` as printed to ``decimals``."""
    half = 0.5 * 10.0**-decimals + 1e-9
    values = f1_by_convention(acc, n_real, n_fake, decimals)
    names = ("real", "fake", "macro", "weighted") if averaged else ("real", "fake")
    return tuple(k for k in names if values[k].size and bool((np.abs(values[k] - f1) <= half).any()))


def positive_class(consistent: tuple[str, ...]) -> str:
    """One reading of a published F1 from the conventions it fits: real when it fits (spotfake's and the
    FakeVLM tables' convention), else fake, else the one averaged convention that fits, else unknown."""
    for name in ("real", "fake"):
        if name in consistent:
            return name
    return consistent[0] if len(consistent) == 1 else "unknown"


def read_f1(dataset: str, acc: float | None, f1: float) -> tuple[str, str]:
    """``(class, note)`` for a published F1 on ``dataset`` (a spotfake task name) printed with ``acc``;
    the note gives the counts used and every convention the figure fits."""
    counts = COUNTS.get(dataset)
    if counts is None:
        return (
            "unknown",
            f"F1 {f1:.3f}: the class counts of the set are unknown, so its positive class is too",
        )
    if acc is None:
        return (
            "unknown",
            f"F1 {f1:.3f}: no accuracy is given beside it, so its positive class cannot be checked",
        )
    fits = consistent_f1_classes(acc, f1, counts.n_real, counts.n_fake, averaged=counts.exact)
    found = positive_class(fits)
    tried = "real-, fake-positive, macro or weighted" if counts.exact else "real- or fake-positive"
    fitted = ", ".join(fits) if fits else f"none of {tried}"
    note = (
        f"F1 {f1:.3f} with acc {acc:.3f} at {counts.n_real} real / {counts.n_fake} fake "
        f"({counts.source}) fits: {fitted}; read as {found}"
    )
    return found, note


def board_f1(metrics: Mapping[str, Any], reported: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A reported row's metrics as the board ranks them, and a note when its F1 is ranked nowhere.

    A published F1 sits in the column of its positive class (``reported.f1_positive_class``): a file
    that still files a fake-positive or macro figure under ``f1`` has it moved to ``f1_fake`` /
    ``f1_macro``, and a weighted or unknown one leaves every column (the note says why)."""
    out = dict(metrics)
    found = reported.get("f1_positive_class")
    if found in (None, "real"):
        return out, ""
    value = out.pop("f1", None)
    column = F1_METRICS.get(str(found))
    if column is not None:
        if value is not None:
            out.setdefault(column, value)
        return out, ""
    shown = reported.get("published_f1", value)
    figure = f"{shown:.3f} " if isinstance(shown, (int, float)) else ""
    why = str(reported.get("f1_check") or f"positive class {found}")
    return out, f"published F1 {figure}not ranked ({found}): {why}"
