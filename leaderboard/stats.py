"""Significance tests for comparing two models on the same samples (pure functions).

- :func:`mcnemar`: exact McNemar test on paired right/wrong outcomes (accuracy). Only the discordant pairs
  count: ``b`` = samples A gets right and B wrong, ``c`` = the reverse. Under the null hypothesis (equal
  accuracy) each discordant pair is a fair coin, so the two-sided p-value is that of a binomial test of
  ``min(b, c)`` successes in ``b + c`` trials at 0.5 (McNemar 1947; the exact form recommended by
  Fagerland, Lydersen & Laake 2013 for small counts, and exact at any count).
- :func:`paired_bootstrap`: paired bootstrap of the difference of means of a per-sample value (1/0 for
  correct, ROUGE-L, CSS). Samples are resampled with replacement *as pairs*, so what both models share (the
  hard samples) cancels out. Returns the observed difference, its percentile confidence interval and a
  two-sided p-value from the shifted resampling distribution (Efron & Tibshirani 1993, section 16.4;
  Berg-Kirkpatrick et al. 2012 use the same test for NLP systems).
- :func:`delong`: DeLong's test for two correlated ROC AUCs on the same samples (DeLong, DeLong &
  Clarke-Pearson 1988), computed with midranks as in Sun & Xu (2014): each AUC's structural components
  give the covariance of the two AUCs, hence a normal z for their difference, its p-value and interval.
- :func:`format_p`: p-values as people read them (``p = 0.042``, ``p < 0.001``), one precision everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class McNemarResult:
    """Paired right/wrong counts of models A and B and the exact McNemar p-value."""

    n: int
    both_right: int
    only_a_right: int
    only_b_right: int
    both_wrong: int
    p_value: float

    @property
    def acc_a(self) -> float:
        """Accuracy of A on the paired samples."""
        return (self.both_right + self.only_a_right) / self.n if self.n else float("nan")

    @property
    def acc_b(self) -> float:
        """Accuracy of B on the paired samples."""
        return (self.both_right + self.only_b_right) / self.n if self.n else float("nan")


@dataclass(frozen=True)
class BootstrapResult:
    """Mean of A, mean of B, their difference (A - B) with a confidence interval, and a p-value."""

    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    resamples: int
    confidence: float


def binomial_two_sided_p(k: int, n: int) -> float:
    """Two-sided exact p-value of ``k`` successes in ``n`` fair-coin trials: ``min(1, 2 P(X <= min(k, n-k)))``."""
    if n == 0:
        return 1.0
    from scipy.stats import binom

    low = min(k, n - k)
    return float(min(1.0, 2.0 * binom.cdf(low, n, 0.5)))


def mcnemar(correct_a: npt.ArrayLike, correct_b: npt.ArrayLike) -> McNemarResult:
    """Exact McNemar test; ``correct_a[i]`` and ``correct_b[i]`` are the outcomes on the same sample ``i``."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"paired outcomes must be two 1-d sequences of one length, got {a.shape} and {b.shape}"
        )
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    return McNemarResult(
        n=int(a.size),
        both_right=int(np.sum(a & b)),
        only_a_right=only_a,
        only_b_right=only_b,
        both_wrong=int(np.sum(~a & ~b)),
        p_value=binomial_two_sided_p(only_a, only_a + only_b),
    )


def paired_bootstrap(
    values_a: npt.ArrayLike,
    values_b: npt.ArrayLike,
    *,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired bootstrap of ``mean(a) - mean(b)`` over the same samples.

    The p-value is ``(1 + #{|d* - d| >= |d|}) / (resamples + 1)``: how often the resampled differences,
    shifted to be centred on zero (the null hypothesis), are at least as far from zero as the observed
    difference ``d``. Deterministic for a given ``seed``.
    """
    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"paired values must be two 1-d sequences of one length, got {a.shape} and {b.shape}"
        )
    if a.size == 0:
        raise ValueError("paired bootstrap needs at least one paired sample")
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        raise ValueError("paired values must be finite numbers (drop samples without a value first)")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    d = a - b
    observed = float(d.mean())
    rng = np.random.default_rng(seed)
    n = d.size
    chunk = max(1, min(resamples, 2_000_000 // n))
    means = np.empty(resamples)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = d[idx].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    # Differences are means of bounded values; compare with a tolerance so that an exact tie is a tie.
    extreme = np.abs(means - observed) >= abs(observed) - 1e-12
    p_value = 1.0 if observed == 0.0 else float((1 + int(extreme.sum())) / (resamples + 1))
    return BootstrapResult(
        n=int(n),
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        diff=observed,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value,
        resamples=resamples,
        confidence=confidence,
    )


@dataclass(frozen=True)
class DeLongResult:
    """Two paired ROC AUCs (fake = positive), their difference A - B, its interval and DeLong's p-value."""

    n: int
    auc_a: float
    auc_b: float
    diff: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, ties sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    ranks = np.empty(len(values))
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and ordered[stop + 1] == ordered[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    return ranks


def _structural(positives: np.ndarray, negatives: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and the DeLong structural components of positives (V10) and negatives (V01)."""
    m, n = len(positives), len(negatives)
    together = _midranks(np.concatenate([positives, negatives]))
    within_pos = _midranks(positives)
    within_neg = _midranks(negatives)
    auc = (together[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    v10 = (together[:m] - within_pos) / n
    v01 = 1.0 - (together[m:] - within_neg) / m
    return float(auc), v10, v01


def delong(
    scores_a: npt.ArrayLike, scores_b: npt.ArrayLike, is_fake: npt.ArrayLike, confidence: float = 0.95
) -> DeLongResult:
    """DeLong's test of ``AUC(a) - AUC(b)`` on the same samples (``is_fake[i]``: sample ``i`` is fake)."""
    from scipy.stats import norm

    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    fake = np.asarray(is_fake, dtype=bool)
    if not a.shape == b.shape == fake.shape or a.ndim != 1:
        raise ValueError(
            f"paired scores and labels must be 1-d of one length, got {a.shape}, {b.shape}, {fake.shape}"
        )
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        raise ValueError("scores must be finite numbers (drop samples without a score first)")
    m, n = int(fake.sum()), int((~fake).sum())
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's test needs at least two fake and two real samples, got {m} and {n}")
    auc_a, v10_a, v01_a = _structural(a[fake], a[~fake])
    auc_b, v10_b, v01_b = _structural(b[fake], b[~fake])
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    cov = s10 / m + s01 / n
    variance = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    diff = auc_a - auc_b
    if variance <= 1e-18:
        z, p = 0.0, 1.0 if abs(diff) < 1e-12 else 0.0
        half = 0.0
    else:
        se = variance**0.5
        z = diff / se
        p = float(2.0 * norm.sf(abs(z)))
        half = float(norm.ppf(0.5 + confidence / 2.0)) * se
    return DeLongResult(m + n, auc_a, auc_b, diff, diff - half, diff + half, float(z), min(1.0, p))


def format_p(p: float, floor: float = 0.001) -> str:
    """``p = 0.042`` with three decimals, or ``p < 0.001`` below ``floor`` (resampling floors included)."""
    if p != p:  # NaN
        return "p = n/a"
    if p < floor:
        return f"p < {floor:g}"
    return f"p = {min(p, 1.0):.3f}"
