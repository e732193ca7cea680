"""Paired tests between two runs' per-sample records, and which rows are statistically tied with the best.

- accuracy (per-sample ``correct``): exact McNemar;
- other means of a per-sample value (ROUGE-L, CSS): paired bootstrap;
- AUC: DeLong's test on the p(fake) scores of the samples both runs scored.

Other metrics (F1, EER, ...) have no per-sample test here: their rows get no "tied" mark (the compare tab
tests every metric by a paired bootstrap of the engine's metric functions, see :mod:`leaderboard.paired`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.stats import delong, mcnemar, paired_bootstrap

TIE_RESAMPLES = 2_000
"""Bootstrap resamples for the board's tie marks."""
MAX_TIE_TESTS = 20
"""Paired tests per table: the runs closest to the best (a run further down is never tied with it when
the 20 runs between them are not)."""


def has_paired_test(metric: str) -> bool:
    """Whether two runs can be compared on ``metric`` sample by sample."""
    return metric == "auc" or metric in lb.per_sample_metrics()


def tie_p_value(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> float | None:
    """p-value of the paired test of two runs' records (frames of :func:`leaderboard.data.load_samples`)
    on ``metric``; None when they share no sample with a value or the metric has no paired test."""
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
        return delong(both["a"].astype(float), both["b"].astype(float), fake).p_value
    fields = lb.per_sample_metrics()
    if metric not in fields:
        return None
    pair = lb.paired_values(a, b, metric)
    if not len(pair):
        return None
    if fields[metric] == "correct":
        return mcnemar(pair["a"].astype(bool), pair["b"].astype(bool)).p_value
    return paired_bootstrap(pair["a"], pair["b"], resamples=TIE_RESAMPLES, seed=0).p_value


def _overlaps(frame: pd.DataFrame, key: str, best: str, metric: str) -> bool:
    """False only when both 95% intervals exist and do not overlap (then the paired test is skipped:
    a paired test is at least as sensitive, so such a row is never tied)."""
    row, top = frame.loc[key], frame.loc[best]
    bounds = [row[f"{metric}_lo"], row[f"{metric}_hi"], top[f"{metric}_lo"], top[f"{metric}_hi"]]
    if any(isinstance(v, float) and math.isnan(v) for v in bounds):
        return True
    return bool(row[f"{metric}_hi"] >= top[f"{metric}_lo"] and row[f"{metric}_lo"] <= top[f"{metric}_hi"])


PairP = Callable[[lb.RunEntry, lb.RunEntry, str], "float | None"]
"""``(run, best, metric) -> p`` of the paired test between two runs (see :func:`pair_p_value`)."""


def pair_p_value(samples: Callable[[lb.RunEntry], pd.DataFrame]) -> PairP:
    """A :data:`PairP` that reads records through ``samples``."""
    return lambda run, best, metric: tie_p_value(samples(run), samples(best), metric)


def tie_p_values(
    frame: pd.DataFrame, entries: Sequence[lb.RunEntry], metric: str, pair_p: PairP
) -> dict[str, float | None]:
    """p-values of the paired test of each run against the best run on ``metric`` (row key -> p).

    Only runs with per-sample records take part; the best is the best of those. A row whose interval does
    not overlap the best's maps to None (worse, no test needed); at most :data:`MAX_TIE_TESTS` rows are
    tested; rows not in the result were not tested.
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
    out: dict[str, float | None] = {}
    candidates = []
    for key in scored["key"].iloc[1:]:
        if _overlaps(indexed, key, best, metric):
            candidates.append(key)
        else:
            out[str(key)] = None
    for key in candidates[:MAX_TIE_TESTS]:
        p = pair_p(with_samples[key], with_samples[best], metric)
        if p is not None:
            out[str(key)] = p
    return out
