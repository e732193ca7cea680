"""Paired significance tests: exact McNemar and the paired bootstrap, checked against direct computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spotfake.leaderboard.stats import binomial_two_sided_p, mcnemar, paired_bootstrap


def _exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value summed term by term with integers."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_mcnemar_counts_and_exact_p_value() -> None:
    a = [True] * 10 + [True] * 1 + [False] * 6 + [False] * 3
    b = [True] * 10 + [False] * 1 + [True] * 6 + [False] * 3
    result = mcnemar(a, b)
    assert (result.both_right, result.only_a_right, result.only_b_right, result.both_wrong) == (10, 1, 6, 3)
    assert result.p_value == pytest.approx(2 * (1 + 7) / 2**7)  # 0.125
    assert result.acc_a == pytest.approx(11 / 20) and result.acc_b == pytest.approx(16 / 20)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 5), (3, 3), (7, 20), (40, 61), (500, 560)])
def test_binomial_p_matches_the_integer_sum(b: int, c: int) -> None:
    assert binomial_two_sided_p(b, b + c) == pytest.approx(_exact_p(b, c), rel=1e-9)
    assert binomial_two_sided_p(c, b + c) == pytest.approx(_exact_p(b, c), rel=1e-9)


def test_mcnemar_ignores_agreement() -> None:
    """Samples both get right (or both wrong) carry no evidence either way: adding them leaves p unchanged."""
    a = [True] * 2 + [False] * 9  # 2 samples only A gets right, 9 only B gets right
    b = [False] * 2 + [True] * 9
    base = mcnemar(a, b)
    more = mcnemar(a + [True] * 50 + [False] * 50, b + [True] * 50 + [False] * 50)
    assert base.p_value == pytest.approx(_exact_p(2, 9))  # 134 / 2048, far from the trivial 1.0
    assert 0.05 < base.p_value < 0.07
    assert more.p_value == base.p_value
    assert (more.only_a_right, more.only_b_right, more.both_right, more.both_wrong) == (2, 9, 50, 50)


def test_mcnemar_rejects_unpaired_input() -> None:
    with pytest.raises(ValueError):
        mcnemar([True, False], [True])


def test_bootstrap_of_identical_values_finds_no_difference() -> None:
    values = np.linspace(0, 1, 50)
    result = paired_bootstrap(values, values, resamples=500)
    assert result.diff == 0.0 and result.p_value == 1.0
    assert result.ci_low == result.ci_high == 0.0


def test_bootstrap_detects_a_clear_difference_and_brackets_it() -> None:
    rng = np.random.default_rng(1)
    b = rng.uniform(0.2, 0.6, size=300)
    a = b + 0.1 + rng.normal(0, 0.05, size=300)
    result = paired_bootstrap(a, b, resamples=2000, seed=3)
    assert result.diff == pytest.approx(float(np.mean(a - b)))
    assert result.ci_low < result.diff < result.ci_high
    assert result.ci_low > 0
    assert result.p_value == pytest.approx(1 / 2001)


def test_bootstrap_of_a_pure_noise_difference_is_not_significant() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(size=200)
    b = a[rng.permutation(200)]  # same values, different pairing: the means are equal
    result = paired_bootstrap(a, b, resamples=2000)
    assert abs(result.diff) < 1e-12
    assert result.p_value > 0.5


def test_bootstrap_is_deterministic_for_a_seed_and_uses_pairs() -> None:
    a = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1]
    b = [1, 0, 1, 0, 1, 0, 0, 1, 0, 1]
    first = paired_bootstrap(a, b, resamples=1000, seed=5)
    assert first == paired_bootstrap(a, b, resamples=1000, seed=5)
    assert first != paired_bootstrap(a, b, resamples=1000, seed=6)
    # A is never worse than B on any sample, so no paired resample can make the difference negative
    assert first.ci_low >= 0.0


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        paired_bootstrap([], [])
    with pytest.raises(ValueError, match="finite"):
        paired_bootstrap([1.0, float("nan")], [1.0, 0.0])


def _delong_by_definition(a: np.ndarray, b: np.ndarray, fake: np.ndarray) -> tuple[float, float, float]:
    """AUCs and the variance of their difference straight from DeLong's definitions (O(m n) kernels)."""

    def components(s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x, y = s[fake], s[~fake]
        psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
        return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)

    auc_a, v10_a, v01_a = components(a)
    auc_b, v10_b, v01_b = components(b)
    m, n = len(v10_a), len(v01_a)
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return auc_a, auc_b, float(var)


def test_delong_matches_its_definition_with_ties() -> None:
    from scipy.stats import norm
    from sklearn.metrics import roc_auc_score

    from spotfake.leaderboard.stats import delong

    rng = np.random.default_rng(5)
    fake = rng.uniform(size=120) < 0.4
    a = np.round(np.clip(fake * 0.3 + rng.normal(0.4, 0.2, size=120), 0, 1), 1)  # many ties
    b = np.round(np.clip(fake * 0.1 + rng.normal(0.45, 0.2, size=120), 0, 1), 2)
    result = delong(a, b, fake)
    auc_a, auc_b, var = _delong_by_definition(a, b, fake)
    assert result.auc_a == pytest.approx(roc_auc_score(fake, a)) == pytest.approx(auc_a)
    assert result.auc_b == pytest.approx(roc_auc_score(fake, b)) == pytest.approx(auc_b)
    z = (auc_a - auc_b) / math.sqrt(var)
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(z)))
    assert result.ci_low < result.diff < result.ci_high
    assert 0 < result.p_value < 0.05  # a clearly better first model


def test_delong_of_one_model_against_itself_is_no_difference() -> None:
    from spotfake.leaderboard.stats import delong

    scores = np.linspace(0, 1, 40)
    fake = np.arange(40) % 2 == 0
    result = delong(scores, scores, fake)
    assert result.diff == 0.0 and result.p_value == 1.0
    with pytest.raises(ValueError, match="two fake and two real"):
        delong([0.1, 0.2], [0.3, 0.4], [True, False])


@pytest.mark.parametrize(
    ("p", "text"), [(0.0421, "p = 0.042"), (9.999e-05, "p < 0.001"), (1.0, "p = 1.000"), (0.001, "p = 0.001")]
)
def test_p_values_read_the_same_everywhere(p: float, text: str) -> None:
    from spotfake.leaderboard.stats import format_p

    assert format_p(p) == text


def test_a_subset_comparison_tests_only_that_subset_with_all_reals_for_score_metrics() -> None:
    from spotfake.harness.types import Record
    from spotfake.leaderboard.paired import compare_runs, group_indices

    def records(correct_fakes: int) -> list[Record]:
        out = []
        for i in range(30):
            label = "real" if i < 10 else "fake"
            generator = None if label == "real" else ("ddpm" if i < 20 else "dcgan")
            right = label == "real" or i - 10 < correct_fakes
            verdict = label if right else ("real" if label == "fake" else "fake")
            score = (0.9 if label == "fake" else 0.1) if right else 0.5
            meta = {"generator": generator} if generator else {}
            out.append(
                Record(id=str(i), label=label, category=None, metadata=meta, verdict=verdict, score=score)
            )  # type: ignore[arg-type]
        return out

    a, b = records(correct_fakes=20), records(correct_fakes=5)  # b misses half of ddpm and all dcgan
    group = ("generator", "ddpm")
    assert group_indices(a, group, scores=False) == list(range(10, 20))
    assert group_indices(a, group, scores=True) == list(range(20))  # the ten fakes and every real
    found = {c.metric: c for c in compare_runs(["acc", "auc"], a, b, "verdict", group=group, resamples=200)}
    assert found["acc"].n == 10 and found["acc"].value_a == 1.0 and found["acc"].value_b == 0.5
    assert found["auc"].n == 20
    everything = {c.metric: c for c in compare_runs(["acc"], a, b, "verdict", resamples=200)}
    assert everything["acc"].n == 30


def test_the_overview_score_compares_rows_only_on_the_tasks_both_have() -> None:
    import pandas as pd

    from spotfake.leaderboard.overview import shared_task_scores

    nan = float("nan")
    # task A: y rank 1, x rank 2; task B: z rank 1, y rank 2. x and z share no task.
    ranks = pd.DataFrame({"A": [2.0, 1.0, nan], "B": [nan, 2.0, 1.0]}, index=["x", "y", "z"])
    same_group = pd.Series([False, False, False], index=ranks.index)
    assert shared_task_scores(ranks, same_group) == [-1, 0, 1]  # avg rank would put z (1.0) and x (2.0) apart
    apart = pd.Series([True, False, False], index=ranks.index)  # x in another group: never compared
    assert shared_task_scores(ranks, apart) == [0, -1, 1]


def test_parameter_counts_read_as_the_board_shows_them() -> None:
    from spotfake.leaderboard.overview import human_count, parameter_count

    shown = [human_count(n) for n in (950, 1_234, 9_960, 24_000_000, 999_950, 7_100_000_000, 7_000_000_000)]
    assert shown == ["950", "1.2K", "10K", "24M", "1M", "7.1B", "7B"]
    assert parameter_count({"model": {"parameters": 29_713}}) == 29_713
    assert parameter_count({"model": {"parameters": None}}) is None
    assert parameter_count({"model": {"parameters": True}}) is None and parameter_count({}) is None
