"""Video-level and per-category-mean metrics (tasks/metrics.py) against brute-force definitions."""

from __future__ import annotations

import itertools
import random
import warnings

import numpy as np
import pytest

from spotfake.harness.metrics import metric_def
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.types import Record
from spotfake.tasks.metrics import (
    auc_mean_category,
    bacc_mean_category,
    majority,
    video_acc,
    video_auc,
    video_table,
    weighted_auc,
)


def rec(
    i: int, video: str | None, label: str, score: float | None, verdict: str | None, cat: str = "c"
) -> Record:
    metadata = {"video": video} if video else {}
    return Record(id=f"r{i}", label=label, score=score, verdict=verdict, category=cat, metadata=metadata)  # type: ignore[arg-type]


def brute_auc(scores: list[float], fake: list[bool]) -> float:
    pairs = [
        (s, t)
        for (s, f), (t, g) in itertools.product(zip(scores, fake, strict=True), repeat=2)
        if f and not g
    ]
    return sum(1.0 if s > t else 0.5 if s == t else 0.0 for s, t in pairs) / len(pairs)


def ones(n: int) -> np.ndarray:
    return np.ones((1, n))


def test_majority_and_video_table() -> None:
    assert majority(["fake", "fake", "real"]) == "fake"
    assert majority(["fake", "real", None]) is None
    assert majority([None]) is None
    records = [
        rec(0, "A", "fake", 0.9, "fake"),
        rec(1, "A", "fake", 0.2, "real"),
        rec(2, "A", "fake", None, "fake"),
        rec(3, "B", "real", 0.1, "real"),
        rec(4, None, "real", 0.4, None),
    ]
    table = video_table(records, MetricInputs(records, "verdict").scores)
    assert len(table.videos) == 3
    assert table.mean_score.tolist() == pytest.approx([(0.9 + 0.2 + 0.5) / 3, 0.1, 0.4])
    assert table.vote == ("fake", "real", None)
    assert table.is_fake.tolist() == [True, False, False]
    assert table.n_frames.tolist() == [3, 1, 1]


def test_video_metrics_equal_brute_force_on_random_videos() -> None:
    rng = random.Random(3)
    for _ in range(20):
        records = []
        truth: dict[str, tuple[bool, list[float], list[str]]] = {}
        for v in range(rng.randint(2, 9)):
            fake = rng.random() < 0.5
            scores = [round(rng.random(), 1) for _ in range(rng.randint(1, 5))]
            verdicts = [rng.choice(["fake", "real"]) for _ in scores]
            truth[f"v{v}"] = (fake, scores, verdicts)
            for s, verdict in zip(scores, verdicts, strict=True):
                records.append(rec(len(records), f"v{v}", "fake" if fake else "real", s, verdict))
        rng.shuffle(records)
        inputs = MetricInputs(records, "verdict")
        fakes = [f for f, _, _ in truth.values()]
        means = [round(float(np.mean(s)), 12) for _, s, _ in truth.values()]
        right = [majority(v) == ("fake" if f else "real") for f, _, v in truth.values()]
        got_acc = video_acc(inputs, ones(len(records)))[0]
        assert got_acc == pytest.approx(sum(right) / len(right))
        got_auc = video_auc(inputs, ones(len(records)))[0]
        if all(fakes) or not any(fakes):
            assert np.isnan(got_auc)
        else:
            assert got_auc == pytest.approx(brute_auc(means, fakes))


def test_weighted_auc_with_integer_weights_equals_repeating_samples() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 30).astype(float)
    fake = rng.random(30) < 0.4
    counts = rng.integers(0, 3, (4, 30)).astype(float)
    got = weighted_auc(scores, fake, counts)
    for row, value in zip(counts, got, strict=True):
        rep = np.repeat(np.arange(30), row.astype(int))
        assert value == pytest.approx(brute_auc(scores[rep].tolist(), fake[rep].tolist()))


def test_a_breakdown_mask_keeps_whole_videos() -> None:
    records = [rec(i, f"v{i // 2}", "fake" if i < 4 else "real", i / 10, "fake") for i in range(8)]
    inputs = MetricInputs(records, "verdict")
    mask = np.array([[1, 1, 0, 0, 1, 1, 1, 1]], dtype=float)  # video v1 (fake) left out
    assert video_acc(inputs, mask)[0] == pytest.approx(1 / 3)
    assert video_auc(inputs, mask)[0] == pytest.approx(0.0)  # the fake v0 scores below both reals


def test_auc_mean_category_is_the_mean_of_each_category_against_all_reals() -> None:
    records = [
        rec(0, None, "fake", 0.9, None, "gan"),
        rec(1, None, "fake", 0.3, None, "gan"),
        rec(2, None, "fake", 0.2, None, "diffusion"),
        rec(3, None, "real", 0.5, None, "coco"),
        rec(4, None, "real", 0.1, None, "ucid"),
    ]
    inputs = MetricInputs(records, "verdict")
    gan = brute_auc([0.9, 0.3, 0.5, 0.1], [True, True, False, False])
    diffusion = brute_auc([0.2, 0.5, 0.1], [True, False, False])
    assert auc_mean_category(inputs, ones(5))[0] == pytest.approx((gan + diffusion) / 2)


def test_the_metrics_are_registered_with_labels_and_needs() -> None:
    assert metric_def("video_auc").needs == "scores" and metric_def("video_auc").label == "Video AUC"
    assert metric_def("video_acc").needs == "labels" and metric_def("video_acc").higher_is_better
    assert metric_def("auc_mean_category").label == "mAUC"


def _family_records(seed: int) -> list[Record]:
    rng = random.Random(seed)
    families = ["ProGAN", "BigGAN", "Latent Diff."]
    out = []
    for i in range(60):
        label = "real" if i % 4 == 0 else "fake"
        cat = "Real" if label == "real" else families[i % 3]
        verdict = rng.choice(["real", "fake", "fake", None])
        out.append(rec(i, None, label, rng.random(), verdict, cat))
    return out


def test_bacc_mean_category_is_the_mean_of_sklearns_balanced_accuracy_per_family() -> None:
    from sklearn.metrics import balanced_accuracy_score

    for seed in range(5):
        records = _family_records(seed)
        reals = [r for r in records if r.label == "real"]
        expected = []
        for family in sorted({r.category for r in records if r.label == "fake"}):
            group = [r for r in records if r.label == "fake" and r.category == family] + reals
            truth = [r.label for r in group]
            said = [r.verdict or "unknown" for r in group]  # an unknown verdict is a miss
            with warnings.catch_warnings():  # "y_pred contains classes not in y_true": "unknown"
                warnings.simplefilter("ignore")
                expected.append(balanced_accuracy_score(truth, said))
        got = bacc_mean_category(MetricInputs(records, "verdict"), ones(len(records)))[0]
        assert got == pytest.approx(np.mean(expected)), seed


def test_bacc_mean_category_weights_are_repeats_and_a_family_without_weight_drops_out() -> None:
    records = _family_records(7)
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 3, size=len(records))
    repeated = [r for r, c in zip(records, counts, strict=True) for _ in range(c)]
    weighted = bacc_mean_category(MetricInputs(records, "verdict"), counts[None, :].astype(float))[0]
    assert weighted == pytest.approx(
        bacc_mean_category(MetricInputs(repeated, "verdict"), ones(len(repeated)))[0]
    )
    mask = np.array([[0.0 if r.category == "BigGAN" else 1.0 for r in records]])
    kept = [r for r in records if r.category != "BigGAN"]
    assert bacc_mean_category(MetricInputs(records, "verdict"), mask)[0] == pytest.approx(
        bacc_mean_category(MetricInputs(kept, "verdict"), ones(len(kept)))[0]
    )
    only_fakes = [r for r in records if r.label == "fake"]
    fake_recall = [
        np.mean([r.verdict == "fake" for r in only_fakes if r.category == c])
        for c in ("BigGAN", "Latent Diff.", "ProGAN")
    ]
    assert bacc_mean_category(MetricInputs(only_fakes, "verdict"), ones(len(only_fakes)))[0] == pytest.approx(
        np.mean(fake_recall)
    )


def test_dmimage_lists_bacc_mean_category_beside_the_pooled_balanced_accuracy() -> None:
    from spotfake.harness.registry import TASKS

    metrics = TASKS.get("dmimage").metrics
    assert "balanced_acc" in metrics and "bacc_mean_category" in metrics
    assert (
        metric_def("bacc_mean_category").label == "mBAcc"
        and metric_def("bacc_mean_category").needs == "labels"
    )
