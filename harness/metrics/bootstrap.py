"""Seeded percentile bootstrap, vectorised: resamples are count matrices, metrics are matrix products.

A resample of n records is described by how many times each record is drawn; ``counts @ columns``
then gives every resample's column sums at once (see :mod:`harness.metrics.definitions`).
Resamples are drawn in chunks of at most :data:`MAX_CELLS` counts, so memory stays bounded for any n.

Citation: Efron and Tibshirani, "An Introduction to the Bootstrap", 1993 (percentile interval).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from spotfake.harness.metrics.types import FloatArray, IntArray

MAX_CELLS = 2_000_000


def resample_counts(n: int, n_bootstrap: int, seed: int) -> Iterator[IntArray]:
    """Yield (b, n) matrices of draw counts (each row sums to n) until ``n_bootstrap`` rows were given.

    The draws depend only on (n, n_bootstrap, seed), so intervals are reproducible on any machine.
    """
    if n <= 0 or n_bootstrap <= 0:
        return
    rng = np.random.default_rng(seed)
    rows = max(1, MAX_CELLS // n)
    for start in range(0, n_bootstrap, rows):
        b = min(rows, n_bootstrap - start)
        draws = rng.integers(0, n, size=(b, n))
        draws += (np.arange(b) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)


def percentile_interval(values: FloatArray, confidence: float) -> list[float] | None:
    """The percentile interval of the defined (non-NaN) resample values, or None if none is defined.

    Resamples where a metric is undefined (e.g. a class absent) are left out.
    """
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.percentile(finite, [100.0 * alpha, 100.0 * (1.0 - alpha)])
    return [float(lo), float(hi)]
