"""summarize(): metric values against hand-computed and scikit-learn values, counts, intervals, breakdowns."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import summarize
from spotfake.harness.metrics.bootstrap import resample_counts
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.ranking import auc
from spotfake.harness.types import Record

CLASSIFICATION = ["acc", "f1", "f1_fake", "f1_macro", "balanced_acc"]
ALL = [*CLASSIFICATION, "auc", "rouge_l", "css"]


def rec(i: int, label: str | None, verdict: str | None, **kw: object) -> Record:
    response = kw.pop("response", "some answer")
    return Record(id=f"s{i}", label=label, verdict=verdict, response=response, **kw)  # type: ignore[arg-type]


def hand_example() -> list[Record]:
    return [
        rec(1, "real", "real", category="animal"),
        rec(2, "real", "fake", category="animal"),
        rec(3, "real", None, response="hmm, hard to say", category="human"),
        rec(4, "fake", "fake", category="human"),
        rec(5, "fake", "real", category="human"),
        rec(6, "fake", "fake", category="doc"),
        rec(7, "fake", None, response=None, category="doc"),  # missing
        rec(8, "fake", None, response=None, error="CUDA out of memory", category="doc"),
        rec(9, None, "real", category="doc"),  # no label: in the counts, in no classification metric
    ]


def test_hand_computed_values_with_the_unknown_class() -> None:
    s = summarize(hand_example(), answer_kind="verdict", metrics=CLASSIFICATION, n_bootstrap=0)
    m = s.metrics
    # 8 labelled records, right: 1, 4, 6
    assert m["acc"] == pytest.approx(3 / 8)
    # real positive: TP 1 (#1), FP 1 (#5), FN 2 (#2 read fake, #3 unknown)
    assert m["f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 2))
    # fake positive: TP 2 (#4, #6), FP 1 (#2), FN 3 (#5 read real, #7 missing, #8 error)
    assert m["f1_fake"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 3))
    assert m["f1_macro"] == pytest.approx((0.4 + 0.5) / 2)
    assert m["balanced_acc"] == pytest.approx((1 / 3 + 2 / 5) / 2)
    assert {k: m[k] for k in ("n", "n_missing", "n_errors", "n_unparsed", "n_with_reference")} == {
        "n": 9,
        "n_missing": 1,
        "n_errors": 1,
        "n_unparsed": 3,
        "n_with_reference": 0,
    }
    assert m["unparsed_rate"] == pytest.approx(3 / 9)
    assert s.ci == {}


def test_values_agree_with_scikit_learn_on_random_runs() -> None:
    rng = random.Random(3)
    for _ in range(20):
        n = rng.randint(5, 200)
        labels = [rng.choice(["real", "fake"]) for _ in range(n)]
        verdicts = [rng.choice(["real", "fake", "fake", None]) for _ in range(n)]
        records = [rec(i, lab, ver) for i, (lab, ver) in enumerate(zip(labels, verdicts, strict=True))]
        m = summarize(records, answer_kind="verdict", metrics=CLASSIFICATION, n_bootstrap=0).metrics
        y_true = labels
        y_pred = [v if v is not None else "unknown" for v in verdicts]
        assert m["acc"] == pytest.approx(accuracy_score(y_true, y_pred))
        f1_r = f1_score(y_true, y_pred, labels=["real"], average=None, zero_division=np.nan)[0]
        f1_f = f1_score(y_true, y_pred, labels=["fake"], average=None, zero_division=np.nan)[0]
        assert m["f1"] == pytest.approx(f1_r)
        assert m["f1_fake"] == pytest.approx(f1_f)
        assert m["f1_macro"] == pytest.approx((f1_r + f1_f) / 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true": the unknown class
            assert m["balanced_acc"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))


def test_reproduces_fakevlm_paper_convention() -> None:
    # FakeClue test: 1,808 real, 3,192 fake; 70 fakes read as real gives the paper's 0.986 acc / 0.981 F1,
    # and F1 with real as the positive class is what reproduces the 0.981 (fake-positive F1 is 0.989).
    records = [rec(i, "real", "real") for i in range(1808)]
    records += [rec(1808 + i, "fake", "real" if i < 70 else "fake") for i in range(3192)]
    m = summarize(records, answer_kind="verdict", metrics=CLASSIFICATION, n_bootstrap=0).metrics
    assert m["acc"] == pytest.approx(4930 / 5000)
    assert m["f1"] == pytest.approx(2 * 1808 / (2 * 1808 + 70))
    assert m["f1_fake"] == pytest.approx(2 * 3122 / (2 * 3122 + 70))
    assert (round(m["acc"], 3), round(m["f1"], 3), round(m["f1_fake"], 3)) == (0.986, 0.981, 0.989)


def test_undefined_f1_is_none_not_zero() -> None:
    records = [rec(i, "fake", "fake") for i in range(5)]  # no real label, no "real" verdict
    m = summarize(records, answer_kind="verdict", metrics=CLASSIFICATION, n_bootstrap=200).metrics
    assert m["f1"] is None and m["f1_macro"] is None
    assert m["f1_fake"] == 1.0 and m["balanced_acc"] == 1.0


def test_auc_hand_computed_with_missing_score_as_a_coin() -> None:
    records = [
        rec(1, "fake", "fake", score=0.9),
        rec(2, "fake", "fake", score=0.4),
        rec(3, "real", "real", score=0.3),
        rec(4, "real", "fake", score=0.4),
        rec(5, "real", None, response=None, error="timeout"),  # no score: 0.5
        rec(6, None, "fake", score=0.99),  # no label: left out
    ]
    # fake 0.9 beats all three reals: 3; fake 0.4 beats 0.3, ties 0.4, loses to 0.5: 1.5; of 6 pairs
    m = summarize(records, answer_kind="verdict", metrics=["auc"], n_bootstrap=0).metrics
    assert m["auc"] == pytest.approx(4.5 / 6)


def test_auc_is_none_without_scores_or_a_class() -> None:
    no_scores = [rec(1, "fake", "fake"), rec(2, "real", "real")]
    assert summarize(no_scores, answer_kind="verdict", metrics=["auc"]).metrics["auc"] is None
    one_class = [rec(1, "fake", "fake", score=0.2), rec(2, "fake", "fake", score=0.8)]
    summary = summarize(one_class, answer_kind="verdict", metrics=["auc"])
    assert summary.metrics["auc"] is None and "auc" not in summary.ci


def test_choice_tasks_report_accuracy_only() -> None:
    records = [
        Record(id="q1", label="fake", answer="A", verdict="A", response="A"),
        Record(id="q2", label="fake", answer="B", verdict="A", response="A"),
        Record(id="q3", label="real", answer="B", verdict=None, response="no idea"),
        Record(id="q4", label=None, answer="A", verdict="A", response="(A)", score=0.7),
    ]
    m = summarize(records, answer_kind="choice", metrics=ALL, n_bootstrap=100).metrics
    assert m["acc"] == pytest.approx(2 / 4)
    assert all(m[k] is None for k in ["f1", "f1_fake", "f1_macro", "balanced_acc", "auc"])


def test_explanation_means_over_samples_with_a_reference() -> None:
    records = [
        rec(1, "fake", "fake", rouge_l=1.0, css=0.9),
        rec(2, "fake", "real", rouge_l=0.5, css=0.6),
        rec(3, "fake", None, response=None, error="boom", rouge_l=0.0, css=0.0),
        rec(4, "real", "real"),  # no reference
    ]
    s = summarize(records, answer_kind="verdict", metrics=["rouge_l", "css"], n_bootstrap=300)
    assert s.metrics["rouge_l"] == pytest.approx(1.5 / 3)
    assert s.metrics["css"] == pytest.approx(1.5 / 3)
    assert s.metrics["n_with_reference"] == 3
    lo, hi = s.ci["rouge_l"]
    assert 0.0 <= lo <= s.metrics["rouge_l"] <= hi <= 1.0


def random_records(n: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choice(["real", "fake"])
        p_fake = min(1.0, max(0.0, rng.gauss(0.65 if label == "fake" else 0.35, 0.2)))
        verdict = rng.choice(["fake" if p_fake > 0.5 else "real"] * 6 + ["real", "fake", None])
        out.append(
            rec(
                i,
                label,
                verdict,
                score=round(p_fake, 2) if rng.random() > 0.05 else None,  # rounded: ties
                rouge_l=rng.random() if i % 3 else None,
                css=rng.random() if i % 3 else None,
                category=rng.choice(["animal", "human", "doc"]),
                metadata={"generator": rng.choice(["sd", "midjourney"])} if label == "fake" else {},
            )
        )
    return out


def test_bootstrap_intervals_match_explicit_resamples() -> None:
    records = random_records(120, seed=11)
    n_boot, seed = 100, 5
    summary = summarize(records, answer_kind="verdict", metrics=ALL, n_bootstrap=n_boot, seed=seed)
    explicit: dict[str, list[float]] = {m: [] for m in ALL}
    for counts in resample_counts(len(records), n_boot, seed):
        for row in counts:
            sample = [r for r, c in zip(records, row, strict=True) for _ in range(c)]
            labelled = [r for r in sample if r.label]
            y_true = [r.label for r in labelled]
            y_pred = [r.verdict or "unknown" for r in labelled]
            explicit["acc"].append(accuracy_score(y_true, y_pred))
            f1s = f1_score(y_true, y_pred, labels=["real", "fake"], average=None, zero_division=np.nan)
            explicit["f1"].append(f1s[0])
            explicit["f1_fake"].append(f1s[1])
            explicit["f1_macro"].append((f1s[0] + f1s[1]) / 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                explicit["balanced_acc"].append(balanced_accuracy_score(y_true, y_pred))
            scores = [0.5 if r.score is None else r.score for r in labelled]
            explicit["auc"].append(roc_auc_score([t == "fake" for t in y_true], scores))
            explicit["rouge_l"].append(float(np.mean([r.rouge_l for r in sample if r.rouge_l is not None])))
            explicit["css"].append(float(np.mean([r.css for r in sample if r.css is not None])))
    for name in ALL:
        expected = np.percentile(explicit[name], [2.5, 97.5])
        assert summary.ci[name] == pytest.approx(list(expected), abs=1e-12), name
        assert summary.ci[name][0] <= summary.metrics[name] <= summary.ci[name][1]


def test_weighted_auc_equals_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(0)
    fake = rng.random(60) < 0.4
    scores = np.round(rng.random(60), 1)  # many ties
    weights = rng.integers(0, 4, size=(25, 60))
    records = [
        Record(id=f"s{i}", label="fake" if f else "real", score=float(x))
        for i, (f, x) in enumerate(zip(fake, scores, strict=True))
    ]
    got = auc(MetricInputs(records, "verdict"), weights.astype(float))
    for row, value in zip(weights, got, strict=True):
        idx = np.repeat(np.arange(60), row)
        assert value == pytest.approx(roc_auc_score(fake[idx], scores[idx]), abs=1e-12)


def test_intervals_are_seeded_and_use_1000_resamples_by_default() -> None:
    records = random_records(300, seed=2)
    a = summarize(records, answer_kind="verdict", metrics=ALL)
    b = summarize(records, answer_kind="verdict", metrics=ALL)
    c = summarize(records, answer_kind="verdict", metrics=ALL, seed=1)
    assert a.ci == b.ci
    assert a.ci != c.ci
    assert set(a.ci) == set(ALL)
    narrow = summarize(records, answer_kind="verdict", metrics=["acc"], confidence=0.5)
    assert narrow.ci["acc"][1] - narrow.ci["acc"][0] < a.ci["acc"][1] - a.ci["acc"][0]


def test_breakdowns_by_category_and_metadata() -> None:
    records = hand_example()
    for r in records:
        if r.label == "fake":
            r.metadata = {"generator": "sd" if r.id in ("s4", "s5") else "gan"}
    s = summarize(records, answer_kind="verdict", metrics=["acc", "f1"], breakdowns=["generator"])
    assert set(s.per_category) == {"animal", "human", "doc"}
    human = s.per_category["human"]  # #3 real unknown, #4 fake fake, #5 fake real
    assert human["n"] == 3 and human["acc"] == pytest.approx(1 / 3)
    assert human["f1"] == pytest.approx(0.0)  # TP 0, FP 1, FN 1
    assert s.per_category["doc"]["n_missing"] == 1 and s.per_category["doc"]["n_errors"] == 1
    gen = s.breakdowns["generator"]
    assert set(gen) == {"sd", "gan"}  # real images have no generator: left out
    assert gen["sd"]["n"] == 2 and gen["sd"]["acc"] == pytest.approx(1 / 2)
    assert gen["gan"]["n"] == 3 and gen["gan"]["acc"] == pytest.approx(1 / 3)
    assert "acc" in s.ci and not any(k == "ci" for k in gen["sd"])


def test_unknown_metric_and_bad_arguments() -> None:
    with pytest.raises(SpotfakeError, match="did you mean 'rouge_l'"):
        summarize([], answer_kind="verdict", metrics=["rougeL"])
    with pytest.raises(ValueError, match="confidence"):
        summarize([], answer_kind="verdict", metrics=["acc"], confidence=95)


def test_empty_task() -> None:
    s = summarize([], answer_kind="verdict", metrics=ALL)
    assert s.metrics["n"] == 0 and s.metrics["unparsed_rate"] is None
    assert all(s.metrics[m] is None for m in ALL) and s.ci == {}
