"""Paired tests between two runs' per-sample records, and which rows are statistically tied with the best.

- accuracy (per-sample ``correct``): exact McNemar;
- other means of a per-sample value (ROUGE-L, CSS): paired bootstrap;
- AUC: DeLong's test on the p(fake) scores of the samples both runs scored.

Other metrics (F1, EER, ...) have no paired test here: their rows get no "tied" mark.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from leaderboard import data as lb
from leaderboard.stats import delong, mcnemar, paired_bootstrap

TIE_RESAMPLES = 2_000
"""Bootstrap resamples for the board's tie marks (the compare tab uses more)."""


@dataclass(frozen=True)
class PairedTest:
    """The outcome of one paired test: which test, how many paired samples, A - B, its interval, p."""

    test: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float


def has_paired_test(metric: str) -> bool:
    """Whether two runs can be compared on ``metric`` sample by sample."""
    return metric == "auc" or metric in lb.per_sample_metrics()


def paired_test(a: pd.DataFrame, b: pd.DataFrame, metric: str, resamples: int = 10_000) -> PairedTest | None:
    """Compare two runs' records (frames from :func:`leaderboard.data.load_samples`) on ``metric``;
    None when they share no sample with a value (or the metric has no paired test)."""
    if metric == "auc":
        ids = a.index.intersection(b.index, sort=False)
        both = pd.DataFrame(
            {"a": a.loc[ids, "score"], "b": b.loc[ids, "score"], "label": a.loc[ids, "label"]}
        )
        both = both.dropna()
        both = both[both["label"].isin(["real", "fake"])]
        fake = both["label"].eq("fake")
        if fake.sum() < 2 or (~fake).sum() < 2:
            return None
        d = delong(both["a"].astype(float), both["b"].astype(float), fake)
        return PairedTest("DeLong", d.n, d.auc_a, d.auc_b, d.diff, d.ci_low, d.ci_high, d.p_value)
    if metric not in lb.per_sample_metrics():
        return None
    pair = lb.paired_values(a, b, metric)
    if not len(pair):
        return None
    boot = paired_bootstrap(pair["a"], pair["b"], resamples=resamples, seed=0)
    if lb.per_sample_metrics()[metric] == "correct":
        mc = mcnemar(pair["a"].astype(bool), pair["b"].astype(bool))
        return PairedTest(
            "McNemar", mc.n, boot.mean_a, boot.mean_b, boot.diff, boot.ci_low, boot.ci_high, mc.p_value
        )
    return PairedTest(
        "paired bootstrap",
        boot.n,
        boot.mean_a,
        boot.mean_b,
        boot.diff,
        boot.ci_low,
        boot.ci_high,
        boot.p_value,
    )


def _overlaps(frame: pd.DataFrame, key: str, best: str, metric: str) -> bool:
    """False only when both 95% intervals exist and do not overlap (then the paired test is skipped:
    a paired test is at least as sensitive, so such a row is never tied)."""
    row, top = frame.loc[key], frame.loc[best]
    bounds = [row[f"{metric}_lo"], row[f"{metric}_hi"], top[f"{metric}_lo"], top[f"{metric}_hi"]]
    if any(isinstance(v, float) and math.isnan(v) for v in bounds):
        return True
    return bool(row[f"{metric}_hi"] >= top[f"{metric}_lo"] and row[f"{metric}_lo"] <= top[f"{metric}_hi"])


def tie_p_values(
    frame: pd.DataFrame,
    entries: Sequence[lb.RunEntry],
    metric: str,
    samples: Callable[[lb.RunEntry], pd.DataFrame],
) -> dict[str, float]:
    """p-values of the paired test of each run against the best run on ``metric`` (row key -> p).

    Only runs with per-sample records take part; the best is the best of those. Rows whose interval does
    not overlap the best's are left out (not tied).
    """
    if not has_paired_test(metric) or metric not in frame:
        return {}
    with_samples = {e.key: e for e in entries if e.has_samples}
    scored = frame[frame["key"].isin(with_samples)].dropna(subset=[metric])
    if len(scored) < 2:
        return {}
    scored = scored.sort_values(metric, ascending=not lb.higher_is_better(metric), kind="stable")
    best = str(scored["key"].iloc[0])
    indexed = frame.set_index("key")
    best_records = samples(with_samples[best])
    out: dict[str, float] = {}
    for key in scored["key"].iloc[1:]:
        if not _overlaps(indexed, key, best, metric):
            continue
        result = paired_test(samples(with_samples[key]), best_records, metric, resamples=TIE_RESAMPLES)
        if result is not None:
            out[str(key)] = result.p_value
    return out
